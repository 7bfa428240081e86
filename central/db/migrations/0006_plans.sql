-- Plans: each a document the plan fold (contract/plans) keeps, with the columns the list, the
-- timer and idempotent submission select on; which plan each run belongs to; and approvals.
CREATE TABLE `approvals` (
	`approval_id` text PRIMARY KEY NOT NULL,
	`plan_id` text NOT NULL,
	`status` text NOT NULL,
	`requested_at` text NOT NULL,
	`approval` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `approvals_status` ON `approvals` (`status`,`approval_id`);--> statement-breakpoint
CREATE INDEX `approvals_plan` ON `approvals` (`plan_id`);--> statement-breakpoint
CREATE TABLE `plan_runs` (
	`run_id` text PRIMARY KEY NOT NULL,
	`plan_id` text NOT NULL,
	`step_id` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `plan_runs_plan` ON `plan_runs` (`plan_id`);--> statement-breakpoint
CREATE TABLE `plans` (
	`plan_id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`due_at` integer,
	`idempotency_key` text,
	`request_digest` text,
	`created_at` integer NOT NULL,
	`plan` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `plans_idempotency_key_unique` ON `plans` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `plans_status` ON `plans` (`status`);--> statement-breakpoint
CREATE INDEX `plans_due` ON `plans` (`due_at`);
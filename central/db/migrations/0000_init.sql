CREATE TABLE `agents` (
	`agent_id` text PRIMARY KEY NOT NULL,
	`app` text NOT NULL,
	`status` text NOT NULL,
	`status_since` integer NOT NULL,
	`skills` text NOT NULL,
	`capabilities` text NOT NULL,
	`harness` text NOT NULL,
	`agent_version` text NOT NULL,
	`contract_version` text NOT NULL,
	`max_concurrency` integer NOT NULL,
	`key_id` text NOT NULL,
	`connection_id` text,
	`connected_at` integer,
	`disconnected_at` integer,
	`last_heartbeat_at` integer,
	`last_seen_at` integer,
	`outbox_pending` integer DEFAULT 0 NOT NULL,
	`last_dispatched_at` integer,
	`registered_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `agents_app` ON `agents` (`app`);--> statement-breakpoint
CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`role` text NOT NULL,
	`name` text NOT NULL,
	`app` text,
	`prefix` text NOT NULL,
	`hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`created_by` text,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE INDEX `api_keys_prefix` ON `api_keys` (`prefix`);--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`principal` text NOT NULL,
	`role` text NOT NULL,
	`action` text NOT NULL,
	`target` text,
	`outcome` text NOT NULL,
	`status` integer NOT NULL,
	`request_id` text,
	`detail` text
);
--> statement-breakpoint
CREATE TABLE `events` (
	`cursor` integer PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`run_id` text,
	`agent_id` text NOT NULL,
	`kind` text NOT NULL,
	`ingested_at` integer NOT NULL,
	`body` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_event_id_unique` ON `events` (`event_id`);--> statement-breakpoint
CREATE INDEX `events_run` ON `events` (`run_id`,`cursor`);--> statement-breakpoint
CREATE INDEX `events_agent` ON `events` (`agent_id`,`cursor`);--> statement-breakpoint
CREATE INDEX `events_kind` ON `events` (`kind`,`cursor`);--> statement-breakpoint
CREATE TABLE `idempotency` (
	`principal` text NOT NULL,
	`request_id` text NOT NULL,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`state` text NOT NULL,
	`status` integer,
	`sealed` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`principal`, `request_id`)
);
--> statement-breakpoint
CREATE INDEX `idempotency_expires` ON `idempotency` (`expires_at`);--> statement-breakpoint
CREATE TABLE `intents` (
	`intent_id` text PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`intent` text NOT NULL,
	`idempotency_key` text,
	`principal` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `intents_idempotency_key_unique` ON `intents` (`idempotency_key`);--> statement-breakpoint
CREATE INDEX `intents_status` ON `intents` (`status`);--> statement-breakpoint
CREATE TABLE `log_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`next_cursor` integer NOT NULL,
	`sealed_through` integer NOT NULL,
	`pruned_through` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `pruned_event_ids` (
	`event_id` text PRIMARY KEY NOT NULL,
	`cursor` integer NOT NULL,
	`pruned_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `runs` (
	`run_id` text PRIMARY KEY NOT NULL,
	`intent_id` text NOT NULL,
	`status` text NOT NULL,
	`app` text,
	`agent_id` text,
	`attempt` integer NOT NULL,
	`tree_ref` text,
	`lease_agent` text,
	`lease_attempt` integer,
	`lease_expires_at` integer,
	`ack_deadline` integer,
	`acked` integer DEFAULT false NOT NULL,
	`retry_at` integer,
	`deadline` integer,
	`created_at` integer NOT NULL,
	`dispatched_at` integer,
	`started_at` integer,
	`finished_at` integer,
	`usage_prior` text NOT NULL,
	`usage_attempt` text NOT NULL,
	`error` text,
	`result` text,
	`tried_agents` text NOT NULL,
	`central_seq` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `runs_intent` ON `runs` (`intent_id`);--> statement-breakpoint
CREATE INDEX `runs_status` ON `runs` (`status`,`retry_at`);--> statement-breakpoint
CREATE INDEX `runs_agent` ON `runs` (`agent_id`,`status`);--> statement-breakpoint
CREATE TABLE `segments` (
	`from_cursor` integer PRIMARY KEY NOT NULL,
	`to_cursor` integer NOT NULL,
	`key` text NOT NULL,
	`events` integer NOT NULL,
	`bytes` integer NOT NULL,
	`sealed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `tenant` (
	`id` integer PRIMARY KEY NOT NULL,
	`tenant` text NOT NULL,
	`name` text,
	`created_at` integer NOT NULL,
	`settings` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `timer` (
	`id` integer PRIMARY KEY NOT NULL,
	`schedule_id` text NOT NULL,
	`at` integer NOT NULL
);

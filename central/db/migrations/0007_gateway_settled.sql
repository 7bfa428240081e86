CREATE TABLE `gateway_settled` (
	`call_id` text PRIMARY KEY NOT NULL,
	`settled_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `gateway_settled_at` ON `gateway_settled` (`settled_at`);
CREATE TABLE `gateway_cache` (
	`key` text PRIMARY KEY NOT NULL,
	`answer` text NOT NULL,
	`bytes` integer NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`hits` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `gateway_cache_expires` ON `gateway_cache` (`expires_at`);--> statement-breakpoint
CREATE TABLE `gateway_config` (
	`id` integer PRIMARY KEY NOT NULL,
	`version` integer NOT NULL,
	`config` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `gateway_health` (
	`provider` text PRIMARY KEY NOT NULL,
	`circuit` text NOT NULL,
	`since` integer NOT NULL,
	`consecutive_failures` integer NOT NULL,
	`until` integer,
	`latency_ms` real,
	`ttft_ms` real,
	`error_rate` real,
	`calls` integer NOT NULL,
	`failures` integer NOT NULL,
	`last_error` text,
	`last_error_at` integer
);
--> statement-breakpoint
CREATE TABLE `gateway_prices` (
	`version` text PRIMARY KEY NOT NULL,
	`models` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `gateway_seq` (
	`stream` text PRIMARY KEY NOT NULL,
	`next` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `gateway_spend` (
	`scope` text NOT NULL,
	`subject` text NOT NULL,
	`day` integer NOT NULL,
	`tokens` integer NOT NULL,
	`usd` real NOT NULL,
	`unpriced_calls` integer NOT NULL,
	PRIMARY KEY(`scope`, `subject`, `day`)
);

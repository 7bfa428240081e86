ALTER TABLE `idempotency` ADD `body_digest` text;--> statement-breakpoint
ALTER TABLE `intents` ADD `request_digest` text;
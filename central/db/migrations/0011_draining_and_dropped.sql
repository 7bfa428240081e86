ALTER TABLE `agents` ADD `draining` integer DEFAULT false NOT NULL;--> statement-breakpoint
-- An agent already draining stays so until it restarts.
UPDATE `agents` SET `draining` = true WHERE `status` = 'draining';
--> statement-breakpoint
-- Runs kept before attempts could go uncounted counted every attempt.
UPDATE `runs` SET `life` = json_set(`life`, '$.uncounted_attempts', 0) WHERE json_extract(`life`, '$.uncounted_attempts') IS NULL;

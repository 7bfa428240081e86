CREATE TABLE `plan_results` (
	`plan_id` text NOT NULL,
	`version` integer NOT NULL,
	`step_id` text NOT NULL,
	`result` text NOT NULL,
	PRIMARY KEY(`plan_id`, `version`, `step_id`)
);

CREATE TABLE `run_cursors` (
	`run_id` text PRIMARY KEY NOT NULL,
	`first_cursor` integer NOT NULL
);
--> statement-breakpoint
-- Runs already in the log start at their first event while nothing was pruned to R2. Once
-- something was, a run's first event may be only in R2, so its reads keep starting at the start of
-- the log (0). A run named only by events pruned before this, and never seen as a run, is not
-- known: its events are read by cursor, agent or kind, not by run.
INSERT INTO `run_cursors` (`run_id`, `first_cursor`)
SELECT `run_id`, CASE WHEN (SELECT `pruned_through` FROM `log_state` WHERE `id` = 1) > 0 THEN 0 ELSE min(`cursor`) END
FROM `events` WHERE `run_id` IS NOT NULL GROUP BY `run_id`;
--> statement-breakpoint
INSERT OR IGNORE INTO `run_cursors` (`run_id`, `first_cursor`)
SELECT `run_id`, 0 FROM `runs` WHERE (SELECT `pruned_through` FROM `log_state` WHERE `id` = 1) > 0;

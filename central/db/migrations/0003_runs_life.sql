-- Runs become one document each: the life the fold (contract/runs) keeps, plus the columns the
-- queue, the timer and the list select on. Existing rows are carried over into that document.
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_runs` (
	`run_id` text PRIMARY KEY NOT NULL,
	`intent_id` text,
	`owner` text NOT NULL,
	`status` text NOT NULL,
	`app` text,
	`agent_id` text,
	`holder` text,
	`retry_at` integer,
	`due_at` integer,
	`created_at` integer NOT NULL,
	`life` text NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_runs`("run_id", "intent_id", "owner", "status", "app", "agent_id", "holder", "retry_at", "due_at", "created_at", "life")
SELECT r.run_id, r.intent_id, 'central', r.status, r.app, r.agent_id,
  CASE WHEN r.status IN ('dispatched', 'running') THEN r.lease_agent END,
  r.retry_at,
  NULLIF(min(
    coalesce(CASE WHEN r.status IN ('pending', 'dispatched', 'running') THEN r.deadline END, 9e15),
    coalesce(CASE WHEN r.status = 'dispatched' AND r.acked = 0 THEN r.ack_deadline END, 9e15),
    coalesce(CASE WHEN r.status IN ('dispatched', 'running') THEN r.lease_expires_at END, 9e15),
    coalesce(CASE WHEN r.status = 'pending' THEN r.retry_at END, 9e15)
  ), 9e15),
  r.created_at,
  json_object(
    'run_id', r.run_id,
    'intent_id', r.intent_id,
    'tenant', (SELECT t.tenant FROM `tenant` t LIMIT 1),
    'owner', 'central',
    'intent_type', json_extract(i.intent, '$.type'),
    'targets', json(coalesce(json_extract(i.intent, '$.targets'), '[]')),
    'status', r.status,
    'intent_status', coalesce(i.status, 'queued'),
    'attempt', r.attempt,
    'closed_attempt', CASE WHEN r.status = 'pending' THEN r.attempt ELSE 0 END,
    'app', r.app,
    'agent_id', r.agent_id,
    'tree_ref', json(r.tree_ref),
    'forked_from', json(CASE WHEN json_extract(i.intent, '$.fork_of') IS NOT NULL THEN json_object(
      'run_id', json_extract(i.intent, '$.fork_of.run_id'),
      'entry_id', json_extract(i.intent, '$.fork_of.entry_id')) END),
    'hold', json(CASE WHEN r.status IN ('dispatched', 'running') AND r.lease_agent IS NOT NULL THEN json_object(
      'agent_id', r.lease_agent,
      'attempt', r.lease_attempt,
      'acked', json(CASE WHEN r.acked THEN 'true' ELSE 'false' END),
      'ack_deadline', r.ack_deadline,
      'lease_expires_at', r.lease_expires_at) END),
    'deadline', r.deadline,
    'unserved_since', NULL,
    'retry_at', r.retry_at,
    'tried_agents', json(r.tried_agents),
    'created_at', r.created_at,
    'dispatched_at', r.dispatched_at,
    'started_at', r.started_at,
    'finished_at', r.finished_at,
    'consumption', json_object(
      'tokens_in', json_extract(r.usage_prior, '$.tokens_in') + json_extract(r.usage_attempt, '$.tokens_in'),
      'tokens_out', json_extract(r.usage_prior, '$.tokens_out') + json_extract(r.usage_attempt, '$.tokens_out'),
      'cache_read_tokens', coalesce(json_extract(r.usage_prior, '$.cache_read_tokens'), 0) + coalesce(json_extract(r.usage_attempt, '$.cache_read_tokens'), 0),
      'cache_write_tokens', coalesce(json_extract(r.usage_prior, '$.cache_write_tokens'), 0) + coalesce(json_extract(r.usage_attempt, '$.cache_write_tokens'), 0),
      'priced_usd', coalesce(json_extract(r.usage_prior, '$.cost_usd'), 0) + coalesce(json_extract(r.usage_attempt, '$.cost_usd'), 0),
      'unpriced_calls', (json_type(r.usage_prior, '$.cost_usd') = 'null') + (json_type(r.usage_attempt, '$.cost_usd') = 'null'),
      'model_calls', coalesce(json_extract(r.usage_prior, '$.model_calls'), 0) + coalesce(json_extract(r.usage_attempt, '$.model_calls'), 0),
      'tool_calls', coalesce(json_extract(r.usage_prior, '$.tool_calls'), 0) + coalesce(json_extract(r.usage_attempt, '$.tool_calls'), 0)),
    'open_calls', json('{}'),
    'reported_failure', NULL,
    'error', json(r.error),
    'result', r.result,
    'settled_by', NULL,
    'central_seq', r.central_seq,
    'anomalies', json('[]'))
FROM `runs` r LEFT JOIN `intents` i ON i.intent_id = r.intent_id;--> statement-breakpoint
DROP TABLE `runs`;--> statement-breakpoint
ALTER TABLE `__new_runs` RENAME TO `runs`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `runs_intent` ON `runs` (`intent_id`);--> statement-breakpoint
CREATE INDEX `runs_queue` ON `runs` (`status`,`created_at`);--> statement-breakpoint
CREATE INDEX `runs_holder` ON `runs` (`holder`);--> statement-breakpoint
CREATE INDEX `runs_due` ON `runs` (`due_at`);--> statement-breakpoint
CREATE INDEX `runs_agent` ON `runs` (`agent_id`,`status`);--> statement-breakpoint
CREATE INDEX `runs_app` ON `runs` (`app`,`status`);

CREATE TABLE `recorded_metrics` (
	`metric` text NOT NULL,
	`labels` text NOT NULL,
	`value` real NOT NULL,
	`buckets` text,
	PRIMARY KEY(`metric`, `labels`)
);

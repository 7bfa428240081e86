import m0000 from "./0000_init.sql";
import m0001 from "./0001_gateway.sql";
import m0002 from "./0002_request_digests.sql";
import m0003 from "./0003_runs_life.sql";
import m0004 from "./0004_secrets.sql";
import m0005 from "./0005_metrics.sql";
import m0006 from "./0006_plans.sql";
import m0007 from "./0007_gateway_settled.sql";
import m0008 from "./0008_plan_results.sql";
import m0009 from "./0009_run_cursors.sql";
import m0010 from "./0010_ended_sessions.sql";
import m0011 from "./0011_draining_and_dropped.sql";
import journal from "./meta/_journal.json";

export default {
  journal,
  migrations: {
    m0000,
    m0001,
    m0002,
    m0003,
    m0004,
    m0005,
    m0006,
    m0007,
    m0008,
    m0009,
    m0010,
    m0011,
  },
};

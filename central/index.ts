import { app } from "./app";

export { TenantAgent } from "./tenant/tenant-agent";

export default app;

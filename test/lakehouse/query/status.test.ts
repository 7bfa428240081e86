import { describe, expect, it } from "vitest";
import { lakeStatus, parseCatalog } from "../../../lakehouse";
import { localLake, withLake } from "../fixture";

describe("lakeStatus", () => {
  it("shows where the lake is without the catalog's password or the data path's keys", async () => {
    await withLake(localLake(), async (lake) => {
      const status = await lakeStatus({
        ...lake,
        location: {
          ...lake.location,
          catalog: parseCatalog("postgres:host=db.lab password = 'hunter2 x' dbname=lake"),
          dataPath: "s3://AKIA1:hunter2@lab-memory/lake/?s3_session_token=hunter2",
        },
      });
      expect(status.catalog).toBe("postgres:host=db.lab password = *** dbname=lake");
      expect(status.dataPath).toBe("s3://AKIA1:***@lab-memory/lake/?s3_session_token=***");
      expect(JSON.stringify(status)).not.toContain("hunter2");
    });
  });
});

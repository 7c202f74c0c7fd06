import { describe, expect, it } from "vitest";
import { leaseLocation } from "../../src/rate-limit/location";

/** A request whose `cf` must not be read (it throws) unless `colo` is given. */
function requestWith(ray: string | null, colo?: string): Pick<Request, "headers" | "cf"> {
  const headers = new Headers(ray === null ? {} : { "CF-Ray": ray });
  return {
    headers,
    get cf() {
      if (colo === undefined) throw new Error("request.cf was read");
      return { colo } as Request["cf"];
    },
  };
}

describe("leaseLocation", () => {
  it("takes the location from CF-Ray's end without reading request.cf", () => {
    expect(leaseLocation(requestWith("8f1c2d3e4a5b6c7d-FRA"))).toBe("FRA");
    expect(leaseLocation(requestWith("8f1c2d3e4a5b6c7d-T12X3"))).toBe("T12X3");
  });

  it("falls back to request.cf.colo without CF-Ray or with one that names no location", () => {
    for (const ray of [
      null,
      "",
      "8f1c2d3e4a5b6c7d",
      "-FRA",
      "8f1c2d3e4a5b6c7d-fra",
      "8f1c2d3e4a5b6c7d-",
      "x-TOOLONGCODE",
    ]) {
      expect(leaseLocation(requestWith(ray, "SJC"))).toBe("SJC");
    }
  });

  it("is undefined when neither names a location (local dev without cf)", () => {
    const request = { headers: new Headers(), cf: undefined } as Pick<Request, "headers" | "cf">;
    expect(leaseLocation(request)).toBeUndefined();
  });
});

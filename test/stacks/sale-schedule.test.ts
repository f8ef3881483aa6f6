/** A deploy during a sale window: refused by synth, or, named deliberately, planned so that the pre-warmed floor holds. */
import { FREEZE_MARGIN_MINUTES, SaleWindowOpenError, saleSchedule } from "../../stacks/sale-schedule";
import { MINIMAL_TFVARS, configFromTfvars, synthesize } from "./support/synth";

// min 4, desired 6, max 40; the sale from 12:00 to 14:00, pre-warm at 11:30 to 24, scale-in at 14:30.
const TFVARS = `${MINIMAL_TFVARS}min_instances = 4
desired_instances = 6
max_instances = 40
prewarm_lead_minutes = 30
scale_in_delay_minutes = 30
sale_windows = [{ name = "double12", starts_at = "2026-12-12T12:00Z", ends_at = "2026-12-12T14:00Z", instances = 24 }]
`;
const at = (time: string) => new Date(`2026-12-12T${time}:00Z`);
const compute = async () => (await configFromTfvars(TFVARS)).compute;

describe("saleSchedule", () => {
  test.each([
    ["before the frozen span", "11:24"],
    ["after the frozen span", "14:36"],
  ])("%s: both tasks or none are scheduled, and the floor is min_instances", async (_name, time) => {
    const schedule = saleSchedule("prod", await compute(), at(time));
    expect(schedule.minSize).toBe(4);
    expect(schedule.desiredCapacity).toBe(6);
    expect(schedule.notes).toEqual([]);
    const expected = time === "11:24" ? ["prewarm 2026-12-12T11:30:00.000Z", "scalein 2026-12-12T14:30:00.000Z"] : [];
    expect(schedule.tasks.map((task) => `${task.phase} ${task.at.toISOString()}`)).toEqual(expected);
  });

  test.each(["11:25", "11:30", "13:00", "14:30", "14:35"])(
    `at %s, inside [pre-warm − ${FREEZE_MARGIN_MINUTES} min, scale-in + ${FREEZE_MARGIN_MINUTES} min], synth refuses, naming the window and the override`,
    async (time) => {
      const plan = async () => saleSchedule("prod", await compute(), at(time));
      await expect(plan()).rejects.toThrow(SaleWindowOpenError);
      await expect(plan()).rejects.toThrow(
        'seckill-prod: sale window "double12" (2026-12-12T12:00Z to 2026-12-12T14:00Z) is in progress. ESS holds the fleet at 24 ' +
          "instances from the pre-warm at 2026-12-12T11:30Z to the scale-in at 2026-12-12T14:30Z, and a plan made now would set the " +
          "floor back to 4, so synth makes no plan from 2026-12-12T11:25Z to 2026-12-12T14:35Z. Deploy after that. In an emergency, " +
          "SECKILL_DEPLOY_DURING_SALE=double12 npx cdktf deploy seckill-prod deploys anyway and keeps the floor at 24 until the scale-in.",
      );
    },
  );

  test("naming another window does not override", async () => {
    await expect(async () => saleSchedule("prod", await compute(), at("13:00"), "newyear")).rejects.toThrow(SaleWindowOpenError);
  });

  test("overridden mid-sale: the floor stays at the window's size and only the scale-in is scheduled", async () => {
    const schedule = saleSchedule("prod", await compute(), at("13:00"), "double12");
    expect(schedule).toMatchObject({ minSize: 24, desiredCapacity: 24 });
    expect(schedule.tasks.map((task) => [task.phase, task.minSize, task.desiredCapacity])).toEqual([["scalein", 4, 6]]);
    expect(schedule.notes).toEqual(["the floor stays at 24 until the double12 scale-in at 2026-12-12T14:30Z"]);
  });

  test("overridden just before the pre-warm: the pre-warm is not scheduled in the past, the floor takes its place", async () => {
    const schedule = saleSchedule("prod", await compute(), at("11:27"), "double12");
    expect(schedule.minSize).toBe(24);
    expect(schedule.tasks.map((task) => task.phase)).toEqual(["scalein"]);
    expect(schedule.notes).toContain("the double12 prewarm at 2026-12-12T11:30Z is too close to schedule; the floor stands in for it");
  });

  test("overridden just before the scale-in: the fleet is kept, and the note says to deploy again", async () => {
    const schedule = saleSchedule("prod", await compute(), at("14:27"), "double12");
    expect(schedule.minSize).toBe(24);
    expect(schedule.tasks).toEqual([]);
    expect(schedule.notes).toEqual([
      "the double12 scalein at 2026-12-12T14:30Z is too close to schedule; the floor stands in for it",
      "the floor stays at 24: deploy again after 2026-12-12T14:30Z to bring it back to 4",
    ]);
  });

  test("no task is ever scheduled less than the margin ahead", async () => {
    const config = await compute();
    for (let minute = 0; minute < 4 * 60; minute++) {
      const now = new Date(at("11:00").getTime() + minute * 60_000);
      const schedule = saleSchedule("prod", config, now, "double12");
      for (const task of schedule.tasks) expect(task.at.getTime() - now.getTime()).toBeGreaterThan(FREEZE_MARGIN_MINUTES * 60_000);
    }
  });
});

describe("a stack synthesized during a sale", () => {
  test("is refused", async () => {
    const config = await configFromTfvars(TFVARS, "prod", at("13:00"));
    expect(() => synthesize(config)).toThrow(SaleWindowOpenError);
  });

  test("deployed during the sale by name: the scaling group keeps the pre-warmed floor, and the scale-in is still scheduled", async () => {
    const s = synthesize(await configFromTfvars(TFVARS, "prod", at("13:00"), "double12"));
    expect(s.one("alicloud_ess_scaling_group")).toMatchObject({ min_size: 24, desired_capacity: 24, max_size: 40 });
    expect(s.one("alicloud_ess_scheduled_task")).toMatchObject({
      scheduled_task_name: "seckill-prod-double12-scalein",
      launch_time: "2026-12-12T14:30Z",
      min_value: 4,
      desired_capacity: 6,
      max_value: 40,
    });
  });
});

import { buyersWithSeveralUnits, classifyOrderAnswer, OrderOutcome, repeatedOrderIds } from "../../../scripts/lib/crowd";
import { HttpAnswer } from "../../../scripts/lib/http-client";

function answer(status: number, body: string): HttpAnswer {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status, headers: {}, text: body, json, durationMs: 1 };
}

describe("classifyOrderAnswer reads an order answer the way the contract (issue 4) defines it", () => {
  test.each<[number, string, OrderOutcome]>([
    [202, '{"orderId":"0123456789abcdef-7","status":"pending"}', "reserved"],
    [409, '{"error":"already_purchased","orderId":"0123456789abcdef-7"}', "already_purchased"],
    [410, '{"error":"sold_out","message":"sold out"}', "sold_out"],
    [429, '{"error":"rate_limited","message":"slow down"}', "rate_limited"],
    [503, "<html><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>", "lb_rejected"],
    [503, '{"error":"unavailable","message":"try again"}', "unavailable"],
    [503, '{"error":"outcome_unknown","message":"may or may not"}', "outcome_unknown"],
    [500, '{"error":"internal","message":"boom"}', "server_error"],
    [502, "<html>502 Bad Gateway</html>", "server_error"],
    [410, '{"error":"ended","message":"the sale has ended"}', "unexpected"],
    [403, '{"error":"not_started","message":"not yet"}', "unexpected"],
    [401, '{"error":"unauthorized","message":"bad token"}', "unexpected"],
    [202, '{"status":"pending"}', "unexpected"],
  ])("%i %s → %s", (status, body, outcome) => {
    expect(classifyOrderAnswer(answer(status, body))).toBe(outcome);
  });
});

test("a buyer told of two units holds two; an order id given twice is repeated", () => {
  const reservations = [
    { buyerId: "a", orderId: "s-1", at: 0, learnedFrom: "202" },
    { buyerId: "b", orderId: "s-2", at: 0, learnedFrom: "202" },
    { buyerId: "a", orderId: "s-3", at: 0, learnedFrom: "my-order" },
    { buyerId: "c", orderId: "s-2", at: 0, learnedFrom: "409" },
  ] as const;

  expect(buyersWithSeveralUnits(reservations)).toEqual(["a"]);
  expect(repeatedOrderIds(reservations)).toEqual(["s-2"]);
});

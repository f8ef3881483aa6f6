import { mintUserToken } from "../../../app/http/auth";
import { bearer, type Answer, type ApiClient } from "./http-client";
import { ADMIN_TOKEN, USER_TOKEN_SECRET } from "./resources";

const HOUR = 3_600_000;

/** The admin API's authorization header. */
export const admin = bearer(ADMIN_TOKEN);

/** A buyer's authorization header: a token minted the way the shop's login mints them. */
export const user = (userId: string) => bearer(mintUserToken(userId, USER_TOKEN_SECRET));

/** Creates a sale of `stock` phones, open from an hour ago to an hour from now, and returns its id. */
export async function createSale(api: ApiClient, stock: number): Promise<string> {
  const now = Date.now();
  const answer = await api.post("/admin/sales", {
    headers: { ...admin, "content-type": "application/json" },
    body: JSON.stringify({
      itemName: "Phone",
      stock,
      startsAt: new Date(now - HOUR).toISOString(),
      endsAt: new Date(now + HOUR).toISOString(),
    }),
  });
  expect(answer.status).toBe(201);
  return answer.json.id;
}

export const order = (api: ApiClient, saleId: string, userId: string): Promise<Answer> =>
  api.post(`/api/sales/${saleId}/orders`, { headers: user(userId) });

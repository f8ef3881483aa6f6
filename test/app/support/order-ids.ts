import { buyerTag, FIRST_GENERATION } from "../../../app/sales/sale";

let microsecond = 0;

/** An order id as RESERVE_SCRIPT makes it (see ORDER_ID_PATTERN), for tests that write order events themselves. */
export function orderIdFor(saleId: string, userId: string, generation = FIRST_GENERATION): string {
  const seconds = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, "0");
  const micros = (microsecond++ % 1_000_000).toString(16).padStart(5, "0");
  return `${saleId}-${generation}-${seconds}${micros}-${buyerTag(saleId, userId)}`;
}

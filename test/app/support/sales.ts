import { newSaleId, type Sale } from "../../../app/sales/sale";

const HOUR = 3_600_000;

/** A sale of `stock` phones in `stockBuckets`, open from an hour ago to an hour from now (not stored anywhere yet). */
export function openSale(stock: number, stockBuckets = 1): Sale {
  const now = Date.now();
  return {
    id: newSaleId(),
    itemName: "Phone",
    stock,
    sold: 0,
    startsAt: now - HOUR,
    endsAt: now + HOUR,
    ...(stockBuckets === 1 ? {} : { stockBuckets }),
  };
}

/**
 * The Lua run inside Redis, in .lua files the bundle carries as text (esbuild's text loader; jest's text
 * transform). Every key arrives in KEYS[] and shares one bucket's hash tag (`{sale:<id>}` or `{sale:<id>:k}`), as
 * Redis Cluster and Tair proxy mode require; nothing builds a key name inside a script.
 */
import ACKNOWLEDGE_ENTRIES_SCRIPT from "./acknowledge-entries.lua";
import LOAD_SALE_SCRIPT from "./load-sale.lua";
import REBUILD_SALE_SCRIPT from "./rebuild-sale.lua";
import RELEASE_LOCK_SCRIPT from "./release-lock.lua";
import RESERVE_SCRIPT from "./reserve.lua";
import GIVE_UNITS_SCRIPT from "./give-units.lua";
import RETURN_UNIT_SCRIPT from "./return-unit.lua";
import TAKE_UNITS_SCRIPT from "./take-units.lua";

export {
  ACKNOWLEDGE_ENTRIES_SCRIPT,
  GIVE_UNITS_SCRIPT,
  LOAD_SALE_SCRIPT,
  REBUILD_SALE_SCRIPT,
  RELEASE_LOCK_SCRIPT,
  RESERVE_SCRIPT,
  RETURN_UNIT_SCRIPT,
  TAKE_UNITS_SCRIPT,
};

/** Reply codes of RESERVE_SCRIPT (first element of the reply array). */
export const ReserveReply = {
  unknownSale: 0,
  reserved: 1,
  alreadyPurchased: 2,
  notStarted: 3,
  ended: 4,
  /** Sold out; with several buckets: this bucket has no unit left (others may have). */
  soldOut: 5,
  /** The sale's Redis state must be rebuilt from MySQL before it sells again. */
  rebuilding: 6,
} as const;

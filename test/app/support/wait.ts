// The one copy lives in scripts/lib (the bench's cluster starter polls with it too); tests import it from here.
export { waitUntil } from "../../../scripts/lib/wait";

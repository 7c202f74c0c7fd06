import { routes } from "../../http/route";
import { deadLetters } from "./dead-letters";
import { adminStats } from "./stats";

/** Every `/admin/*` route; each is behind the admin bearer token (API.md, "Operators"). */
export const admin = routes().route("/", adminStats).route("/", deadLetters);

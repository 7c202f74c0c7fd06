import { z } from "zod";

export const UserSchema = z.object({ id: z.string(), display_name: z.string(), created_at: z.string() });

import { describeRefusal } from '../../auth/token-endpoint.js';

/** A token endpoint's refusal on one line (Microsoft's descriptions go on with trace IDs and timestamps). */
export function refusalLine(answer: { error: string; description?: string }): string {
  return describeRefusal(answer).split(/\r?\n/)[0]!.trim();
}

/**
 * An exception member of a stream event (`{ throttlingException: {…} }`, as the SDK's unions spell
 * them) → the error the SDK throws for the same exception. No mapping here: the one fault table
 * (upstream/aws-errors.ts) turns it into the client's error like any other Bedrock failure, so a fault
 * means the same inside a stream and before it.
 */

/** The exception an event carries, as a thrown SDK exception would look; undefined for other events. */
export function streamException(event: object): Error | undefined {
  for (const [member, value] of Object.entries(event)) {
    if (value === undefined || !member.endsWith('Exception')) continue;
    const upstream = (value as { message?: unknown } | null)?.message;
    const message = typeof upstream === 'string' && upstream !== '' ? upstream : `Bedrock ${member}`;
    const name = member.charAt(0).toUpperCase() + member.slice(1);
    // $fault marks it as Bedrock's answer, not a bug of ours: unknown names keep their message.
    return Object.assign(new Error(message), { name, $fault: 'server', cause: value });
  }
  return undefined;
}

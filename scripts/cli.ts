/** A small flag parser for the Node scripts: `--name value` or `--name=value`; bad flags → UsageError. */

/** A command-line mistake: the message names the flag; scripts print it with the usage, no stack. */
export class UsageError extends Error {
  constructor(message: string, usage: string) {
    super(`${message}\n${usage}`);
    this.name = 'UsageError';
  }
}

export type FlagSpec =
  | { kind: 'choice'; choices: readonly string[]; default: string }
  | { kind: 'list'; default: string }
  | { kind: 'int'; min: number; max: number; default: number }
  | { kind: 'number'; min: number; max: number; default: number }
  | { kind: 'string'; default: string }
  | { kind: 'optional-string' };

export type FlagValue = string | string[] | number | undefined;

/** Parses argv against specs; unknown flags, missing values and out-of-range numbers throw UsageError. */
export function parseFlags(argv: string[], specs: Record<string, FlagSpec>, usage: string): Record<string, FlagValue> {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') throw new UsageError('', usage);
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`, usage);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!(name in specs)) throw new UsageError(`unknown flag --${name}`, usage);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`flag --${name} needs a value`, usage);
    raw[name] = value;
  }
  const out: Record<string, FlagValue> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const given = raw[name];
    switch (spec.kind) {
      case 'choice': {
        const v = given ?? spec.default;
        if (!spec.choices.includes(v)) throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')} (got '${v}')`, usage);
        out[name] = v;
        break;
      }
      case 'list':
        out[name] = (given ?? spec.default).split(',').map((s) => s.trim()).filter(Boolean);
        break;
      case 'int':
      case 'number': {
        if (given === undefined) { out[name] = spec.default; break; }
        const v = Number(given);
        if (given.trim() === '' || !Number.isFinite(v) || (spec.kind === 'int' && !Number.isInteger(v))) {
          throw new UsageError(`--${name} must be ${spec.kind === 'int' ? 'a whole number' : 'a number'} (got '${given}')`, usage);
        }
        if (v < spec.min || v > spec.max) throw new UsageError(`--${name} must be between ${spec.min} and ${spec.max} (got ${v})`, usage);
        out[name] = v;
        break;
      }
      case 'string':
        out[name] = given ?? spec.default;
        break;
      case 'optional-string':
        out[name] = given;
        break;
    }
  }
  return out;
}

/** Parses a comma list of numbers ('0,1e-3,0.1'); throws UsageError naming the flag. */
export function parseNumberList(flag: string, text: string, usage: string): number[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const v = Number(s);
    if (!Number.isFinite(v) || v < 0) throw new UsageError(`--${flag}: '${s}' is not a non-negative number`, usage);
    return v;
  });
}

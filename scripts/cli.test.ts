import { describe, expect, it } from 'vitest';
import { parseFlags, parseNumberList, UsageError } from './cli';

const specs = {
  net: { kind: 'choice', choices: ['mlp', 'conv4'], default: 'mlp' },
  epochs: { kind: 'int', min: 1, max: 10, default: 3 },
  lr: { kind: 'number', min: 0, max: 1, default: 1e-3 },
  method: { kind: 'list', default: 'all' },
  out: { kind: 'optional-string' },
} as const;

describe('parseFlags', () => {
  it('reads --flag value and --flag=value, with defaults', () => {
    expect(parseFlags(['--net', 'conv4', '--epochs=5', '--method', 'rescl,lwf'], { ...specs }, 'usage')).toEqual({
      net: 'conv4', epochs: 5, lr: 1e-3, method: ['rescl', 'lwf'], out: undefined,
    });
  });

  it('names the flag in a usage error, never a stack trace', () => {
    expect(() => parseFlags(['--nte', 'mlp'], { ...specs }, 'usage')).toThrow(/unknown flag --nte/);
    expect(() => parseFlags(['--net', 'vgg'], { ...specs }, 'usage')).toThrow(/--net must be one of mlp, conv4/);
    expect(() => parseFlags(['--epochs', '2.5'], { ...specs }, 'usage')).toThrow(/--epochs must be a whole number/);
    expect(() => parseFlags(['--epochs', '0'], { ...specs }, 'usage')).toThrow(/--epochs must be between 1 and 10/);
    expect(() => parseFlags(['--epochs'], { ...specs }, 'usage')).toThrow(/--epochs needs a value/);
    expect(() => parseFlags(['stray'], { ...specs }, 'usage')).toThrow(UsageError);
    expect(() => parseNumberList('lambdas', '0,abc', 'usage')).toThrow(/--lambdas: 'abc'/);
    expect(parseNumberList('lambdas', '0, 1e-3,0.1', 'usage')).toEqual([0, 1e-3, 0.1]);
  });
});

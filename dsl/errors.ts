/** Every error kiln throws on purpose is a KilnError: callers can tell ours from bugs. */
export class KilnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A graph was built with operands whose shapes, ranks or dtypes do not fit the op. */
export class ShapeError extends KilnError {}

/** A value that is not a shape problem but still invalid for the op (bad axis, bad attribute). */
export class ArgumentError extends KilnError {}

/** A feed given to evaluate/run does not match the input it is bound to. */
export class FeedError extends KilnError {}

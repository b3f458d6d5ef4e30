using System;

// Shared with the generator: compiled into GraphGen.Runtime (namespace GraphGen) and linked into
// GraphGen.Generator (namespace GraphGen.Generator.Vocabulary), so the parser reads arguments by
// nameof and the attribute language is written down once.
#if GRAPHGEN_GENERATOR
namespace GraphGen.Generator.Vocabulary;
#else
namespace GraphGen;
#endif

// The attribute language. A network is a partial class with one [Network] attribute (its input)
// followed by layer attributes; the order of the layer attributes is the order of the layers.
// The GraphGen source generator reads them at compile time; they carry no behaviour at run time.

/// <summary>Marks a partial class as a network and gives the shape of one input sample:
/// either an image (<see cref="Channels"/>, <see cref="Height"/>, <see cref="Width"/>) or a flat
/// vector (<see cref="Features"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class NetworkAttribute : Attribute
{
    /// <summary>Input channels of an image input.</summary>
    public int Channels { get; set; }
    /// <summary>Input height of an image input.</summary>
    public int Height { get; set; }
    /// <summary>Input width of an image input.</summary>
    public int Width { get; set; }
    /// <summary>Length of a flat (2-D, batch × features) input. Excludes Channels/Height/Width.</summary>
    public int Features { get; set; }
}

/// <summary>2-D convolution with <c>filters</c> output channels. The window, step and zero padding are
/// square by default (<see cref="Kernel"/>, <see cref="Stride"/>, <see cref="Padding"/>); the per-axis
/// properties (<see cref="KernelHeight"/>/<see cref="KernelWidth"/> and so on) make them rectangular.
/// <see cref="Groups"/> splits the channels into groups that do not see each other (grouped convolution;
/// Groups equal to the input channels is a depthwise convolution).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class Conv2DAttribute : Attribute
{
    /// <summary>A convolution with <paramref name="filters"/> output channels; set <see cref="Kernel"/>
    /// (or <see cref="KernelHeight"/> and <see cref="KernelWidth"/>).</summary>
    public Conv2DAttribute(int filters) => Filters = filters;
    /// <summary>A convolution with <paramref name="filters"/> output channels and a
    /// <paramref name="kernel"/>×<paramref name="kernel"/> window.</summary>
    public Conv2DAttribute(int filters, int kernel) { Filters = filters; Kernel = kernel; }
    /// <summary>Output channels.</summary>
    public int Filters { get; }
    /// <summary>Side of a square kernel. Not together with <see cref="KernelHeight"/>/<see cref="KernelWidth"/>.</summary>
    public int Kernel { get; set; }
    /// <summary>Kernel rows, for a non-square kernel (with <see cref="KernelWidth"/>).</summary>
    public int KernelHeight { get; set; }
    /// <summary>Kernel columns, for a non-square kernel (with <see cref="KernelHeight"/>).</summary>
    public int KernelWidth { get; set; }
    /// <summary>Step between windows along both axes (default 1). Not together with
    /// <see cref="StrideHeight"/>/<see cref="StrideWidth"/>.</summary>
    public int Stride { get; set; } = 1;
    /// <summary>Step between windows down the rows (default 1).</summary>
    public int StrideHeight { get; set; } = 1;
    /// <summary>Step between windows along the columns (default 1).</summary>
    public int StrideWidth { get; set; } = 1;
    /// <summary>Zero padding on every side (default 0), or <see cref="Same"/>. Not together with
    /// <see cref="PaddingHeight"/>/<see cref="PaddingWidth"/>.</summary>
    public int Padding { get; set; }
    /// <summary>Zero rows above and below (default 0), or <see cref="Same"/>.</summary>
    public int PaddingHeight { get; set; }
    /// <summary>Zero columns left and right (default 0), or <see cref="Same"/>.</summary>
    public int PaddingWidth { get; set; }
    /// <summary>Channel groups (default 1): input and output channels are split into this many equal groups,
    /// and each output group sees only its input group, so the weights are
    /// Filters × (input channels / Groups) × KernelHeight × KernelWidth. It must divide both channel counts.
    /// Groups equal to the input channels is a depthwise convolution (Filters / Groups outputs per channel).</summary>
    public int Groups { get; set; } = 1;

    /// <summary><c>Padding = Conv2DAttribute.Same</c>: (kernel − 1)/2 zeros on each side of each axis, so the
    /// output is ⌈input / stride⌉ high and wide, as "same" padding in Keras and PyTorch (odd kernels only).</summary>
    public const int Same = int.MinValue;
}

/// <summary>Fully connected layer with <c>units</c> outputs. After a 4-D layer it flattens C,H,W row-major.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DenseAttribute : Attribute
{
    /// <summary>A dense layer with <paramref name="units"/> outputs.</summary>
    public DenseAttribute(int units) => Units = units;
    /// <summary>Output features.</summary>
    public int Units { get; }
}

/// <summary>Batch normalization. Per channel over (N,H,W) after a 4-D layer, per feature over N after a
/// 2-D one; the feature count is inferred. Training uses the batch mean and biased variance; inference
/// uses the moving statistics, updated as moving = Momentum·moving + (1−Momentum)·batch.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BatchNormAttribute : Attribute
{
    /// <summary>Optional check: the expected feature (channel) count. 0 means "infer".</summary>
    public int Features { get; set; }
    /// <summary>Added to the variance before the square root (default 1e-5).</summary>
    public double Epsilon { get; set; } = 1e-5;
    /// <summary>Weight of the old moving statistic (default 0.9).</summary>
    public double Momentum { get; set; } = 0.9;
}

/// <summary>Logistic sigmoid, 1/(1+e^−x).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SigmoidAttribute : Attribute { }

/// <summary>Rectified linear unit, max(0, x).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ReLUAttribute : Attribute { }

/// <summary>Hyperbolic tangent.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class TanhAttribute : Attribute { }

/// <summary>Max pooling over a <c>size</c>×<c>size</c> window (no padding).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MaxPool2DAttribute : Attribute
{
    /// <summary>Pooling with a <paramref name="size"/>×<paramref name="size"/> window; stride defaults to the size.</summary>
    public MaxPool2DAttribute(int size) => Size = size;
    /// <summary>Window side.</summary>
    public int Size { get; }
    /// <summary>Step between windows; defaults to <see cref="Size"/>.</summary>
    public int Stride { get; set; }
}

/// <summary>Average pooling over a <c>size</c>×<c>size</c> window (no padding).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AvgPool2DAttribute : Attribute
{
    /// <summary>Pooling with a <paramref name="size"/>×<paramref name="size"/> window; stride defaults to the size.</summary>
    public AvgPool2DAttribute(int size) => Size = size;
    /// <summary>Window side.</summary>
    public int Size { get; }
    /// <summary>Step between windows; defaults to <see cref="Size"/>.</summary>
    public int Stride { get; set; }
}

/// <summary>Global average pooling: the mean over H×W of each channel, C×H×W → C×1×1 (a following
/// [Dense] flattens it to C features).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GlobalAvgPool2DAttribute : Attribute { }

/// <summary>Opens a residual block. The layers after it, up to <see cref="ShortcutAttribute"/> or
/// <see cref="EndResidualAttribute"/>, are the main path; both paths read the block's input, and
/// [EndResidual] adds their outputs elementwise. Blocks may follow one another and nest.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ResidualAttribute : Attribute { }

/// <summary>Ends the main path of the open [Residual] block; the layers after it, up to [EndResidual],
/// are the shortcut (projection) path. Without [Shortcut] the shortcut is the identity.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ShortcutAttribute : Attribute { }

/// <summary>Closes the open [Residual] block: its output is main path + shortcut, which must have the
/// same shape.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class EndResidualAttribute : Attribute { }

/// <summary>Opens a block of parallel branches whose outputs are concatenated along channels
/// (Inception-style). Every branch reads the block's input; the layers after [Concat] are the first
/// branch, each <see cref="BranchAttribute"/> starts the next, and <see cref="EndConcatAttribute"/>
/// closes the block. A branch without layers passes the input through (DenseNet-style).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ConcatAttribute : Attribute { }

/// <summary>Starts the next branch of the open [Concat] block.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BranchAttribute : Attribute { }

/// <summary>Closes the open [Concat] block: its output is the branches' outputs, concatenated along
/// channels in branch order; they must have the same height and width (or all be flat).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class EndConcatAttribute : Attribute { }

/// <summary>Leaky rectified linear unit: x for x &gt; 0, else <see cref="Slope"/>·x.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LeakyReLUAttribute : Attribute
{
    /// <summary>A leaky ReLU with slope 0.01 for negative inputs (PyTorch's default).</summary>
    public LeakyReLUAttribute() { }
    /// <summary>A leaky ReLU with <paramref name="slope"/> for negative inputs, in [0, 1).</summary>
    public LeakyReLUAttribute(double slope) => Slope = slope;
    /// <summary>The slope for negative inputs, in [0, 1) (default 0.01).</summary>
    public double Slope { get; } = 0.01;
}

/// <summary>Sigmoid-weighted linear unit (swish): x·σ(x).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SiLUAttribute : Attribute { }

/// <summary>Dropout: in training each value is zeroed with probability <see cref="Rate"/> and the others are
/// scaled by 1/(1 − Rate); in inference (and in the ONNX export) it is the identity. The masks are drawn from
/// the network's seed, the layer, a step counter saved with the checkpoint, and each value's sample and
/// position, so they are the same for any thread count and a resumed run continues exactly.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DropoutAttribute : Attribute
{
    /// <summary>Dropout that zeroes each value with probability <paramref name="rate"/>, in [0, 1).</summary>
    public DropoutAttribute(double rate) => Rate = rate;
    /// <summary>The probability that a value is zeroed, in [0, 1).</summary>
    public double Rate { get; }
}


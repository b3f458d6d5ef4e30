using GraphGen;

// Networks compiled by the generator inside the test assembly: LeNet itself and one small network
// per layer kind and per code path of the emitter (remainder blocks, strides, padding, windows that
// overlap or do not tile, standalone batch norm, batch norm on the raw input, kernels too wide to
// unroll). The numeric tests run each of them on every SIMD path against ReferenceNetwork.
namespace GraphGen.Tests.Nets;

/// <summary>The LeNet sample's network (samples/LeNet/LeNet.cs, declared once there), under the
/// test networks' namespace.</summary>
public sealed class LeNet : GraphGen.Samples.LeNet
{
    public LeNet(int seed = 0) : base(seed) { }
    public LeNet(NetworkOptions options) : base(options) { }
}

/// <summary>Conv + BN + sigmoid + max pool, odd sizes: channel and position remainder blocks.</summary>
[Network(Channels = 2, Height = 9, Width = 9)]
[Conv2D(5, Kernel = 3)] [BatchNorm] [Sigmoid] [MaxPool2D(2)]
[Dense(4)]
public partial class ConvBnPool { }

/// <summary>Stride and padding, ReLU and Tanh, two convolutions back to back (input gradient of a padded, strided conv).</summary>
[Network(Channels = 3, Height = 8, Width = 7)]
[Conv2D(4, Kernel = 3, Stride = 2, Padding = 1)] [ReLU]
[Conv2D(3, 2)] [Tanh]
[Dense(5)]
public partial class StridePad { }

/// <summary>Average pooling after tanh, and a max pool whose windows overlap (stride &lt; size) and do not tile the input.</summary>
[Network(Channels = 2, Height = 10, Width = 10)]
[Conv2D(3, Kernel = 3)] [Tanh] [AvgPool2D(2)]
[Conv2D(4, Kernel = 2)] [BatchNorm] [ReLU] [MaxPool2D(2, Stride = 1)]
[Dense(3)]
public partial class Pools { }

/// <summary>A max pool with stride larger than the window (positions that get no gradient) after a standalone BatchNorm.</summary>
[Network(Channels = 1, Height = 11, Width = 11)]
[Conv2D(3, Kernel = 3)] [Sigmoid] [BatchNorm] [MaxPool2D(2, Stride = 3)]
[Dense(4)]
public partial class StandaloneBatchNorm { }

/// <summary>Batch norm directly on a flat input, then an MLP.</summary>
[Network(Features = 6)]
[BatchNorm] [Dense(5)] [ReLU] [Dense(3)]
public partial class InputBatchNorm { }

/// <summary>The sample's MLP shape: dense + BN + activation twice, feature counts that leave remainder blocks.</summary>
[Network(Features = 20)]
[Dense(13)] [BatchNorm] [Sigmoid]
[Dense(9)] [BatchNorm] [Tanh]
[Dense(3)]
public partial class Mlp { }

/// <summary>A pool on the raw input (no backward needed for it) and a kernel too wide to unroll.</summary>
[Network(Channels = 1, Height = 20, Width = 20)]
[MaxPool2D(2)]
[Conv2D(2, Kernel = 8)] [BatchNorm] [Sigmoid]
[Dense(3)]
public partial class WideKernel { }

/// <summary>A kernel too wide for the row tilings (14 > what 16 or 32 registers hold with a tile), so the
/// general forward and input-gradient kernels and the tiled weight gradient (12 + 2 columns) run.</summary>
[Network(Channels = 1, Height = 16, Width = 16)]
[Conv2D(2, Kernel = 3)] [Tanh]
[Conv2D(3, Kernel = 14)] [BatchNorm] [ReLU]
[Dense(3)]
public partial class HugeKernel { }

/// <summary>Ends in an activation (warning GG0022), silenced here by #pragma: this project builds with
/// warnings as errors, so it only compiles if GraphGen's warnings honour #pragma.</summary>
#pragma warning disable GG0022
[Network(Features = 5)]
[Dense(4)] [Sigmoid]
public partial class SquashedOutput { }
#pragma warning restore GG0022

/// <summary>Residual blocks: an identity block whose Add fuses into the second conv's epilogue
/// (BN → add → ReLU), a projection block with a strided main path, and global average pooling.
/// The block inputs are read twice, so their gradients are summed.</summary>
[Network(Channels = 2, Height = 8, Width = 8)]
[Conv2D(4, 3, Padding = 1)] [BatchNorm] [ReLU]
[Residual] [Conv2D(4, 3, Padding = 1)] [BatchNorm] [ReLU] [Conv2D(4, 3, Padding = 1)] [BatchNorm] [EndResidual] [ReLU]
[Residual] [Conv2D(6, 3, Stride = 2, Padding = 1)] [BatchNorm] [ReLU] [Conv2D(6, 3, Padding = 1)] [BatchNorm]
           [Shortcut] [Conv2D(6, 1, Stride = 2)] [BatchNorm] [EndResidual] [ReLU]
[GlobalAvgPool2D] [Dense(5)]
public partial class ResidualNet { }

/// <summary>Blocks whose Add cannot fuse (the main path ends in an activation or a pool), a nested
/// block, unpadded convolutions on a shared input (scratch input gradients), dense residuals on a
/// flat input, and a residual Add directly on the network input.</summary>
[Network(Channels = 3, Height = 6, Width = 6)]
[Residual] [Conv2D(3, 1)] [Tanh] [EndResidual]
[Conv2D(4, 3)] [ReLU]
[Residual] [Residual] [Conv2D(4, 1)] [Sigmoid] [EndResidual] [AvgPool2D(1)] [Shortcut] [BatchNorm] [EndResidual]
[Dense(6)]
[Residual] [Dense(6)] [BatchNorm] [EndResidual] [Tanh]
[Dense(3)]
public partial class ResidualEdges { }

/// <summary>Inception-style branches concatenated along channels: a 1×1 branch, a padded 3×3
/// branch with batch norm, and a pass-through branch; the concat feeds batch norm and ReLU in its
/// own epilogue, then a residual block whose shortcut is the concat output.</summary>
[Network(Channels = 2, Height = 6, Width = 6)]
[Conv2D(3, 3, Padding = 1)] [ReLU]
[Concat] [Conv2D(2, 1)] [ReLU] [Branch] [Conv2D(4, 3, Padding = 1)] [BatchNorm] [Tanh] [Branch] [EndConcat] [BatchNorm] [ReLU]
[Residual] [Conv2D(9, 3, Padding = 1)] [BatchNorm] [EndResidual]
[MaxPool2D(2)] [Dense(4)]
public partial class ConcatNet { }

/// <summary>A concat straight on the network input (its input gradient is not needed) next to a
/// trained branch, and a concat of flat values after dense layers.</summary>
[Network(Channels = 1, Height = 5, Width = 5)]
[Concat] [Branch] [Conv2D(2, 3, Padding = 1)] [Sigmoid] [EndConcat]
[Dense(6)] [ReLU]
[Concat] [Dense(3)] [Branch] [Dense(2)] [Tanh] [Branch] [EndConcat]
[Dense(3)]
public partial class ConcatEdges { }

/// <summary>LeakyReLU (its derivative from the output) before a max pool, SiLU (from its input, not
/// monotonic, so a max pool after it is a group of its own) with and without batch norm, and SiLU
/// before an average pool (the derivative recomputed over z).</summary>
[Network(Channels = 2, Height = 8, Width = 8)]
[Conv2D(3, 3, Padding = 1)] [BatchNorm] [LeakyReLU(0.1)] [MaxPool2D(2)]
[Conv2D(4, 3, Padding = 1)] [BatchNorm] [SiLU] [MaxPool2D(2)]
[Conv2D(4, 1)] [SiLU] [AvgPool2D(2)]
[Dense(6)] [BatchNorm] [SiLU] [Dense(5)] [LeakyReLU] [Dense(3)]
public partial class Activations { }

/// <summary>Dropout on the network input (no input gradient), after a ReLU whose output a residual
/// block reads twice (gradients summed through the mask), and between dense layers.</summary>
[Network(Channels = 2, Height = 6, Width = 6)]
[Dropout(0.1)]
[Conv2D(3, 3, Padding = 1)] [ReLU] [Dropout(0.25)]
[Residual] [Conv2D(3, 3, Padding = 1)] [BatchNorm] [EndResidual] [ReLU]
[Dense(8)] [ReLU] [Dropout(0.5)] [Dense(3)]
public partial class DropoutNet { }

/// <summary>"Same" padding: a strided 3×3 (7×7 → ⌈7/2⌉ = 4×4) and a 5×5 that keeps 4×4.</summary>
[Network(Channels = 2, Height = 7, Width = 7)]
[Conv2D(3, 3, Stride = 2, Padding = Conv2DAttribute.Same)] [ReLU]
[Conv2D(2, 5, Padding = Conv2DAttribute.Same)] [Tanh]
[Dense(3)]
public partial class SamePadding { }

/// <summary>A MobileNet-style depthwise-separable block inside a residual block (depthwise 3×3 + BN + ReLU,
/// pointwise 1×1 + BN + ReLU, identity shortcut), then a strided depthwise convolution with channel
/// multiplier 2 (Groups = 4, 4 → 8) and "same" padding.</summary>
[Network(Channels = 3, Height = 7, Width = 7)]
[Conv2D(4, 3, Padding = 1)] [BatchNorm] [ReLU]
[Residual] [Conv2D(4, 3, Padding = 1, Groups = 4)] [BatchNorm] [ReLU] [Conv2D(4, 1)] [BatchNorm] [ReLU] [EndResidual]
[Conv2D(8, 3, Stride = 2, Padding = Conv2DAttribute.Same, Groups = 4)] [ReLU]
[GlobalAvgPool2D] [Dense(3)]
public partial class DepthwiseNet { }

/// <summary>Rectangular kernels, strides and paddings: 3×1 with stride 2×1 and padding 1×0; 1×15 with
/// "same" padding per axis (0×7) in two groups, too wide for the row tilings with 16 registers (the general
/// kernels run group by group); 2×4 with stride 1×3.</summary>
[Network(Channels = 2, Height = 9, Width = 20)]
[Conv2D(4, KernelHeight = 3, KernelWidth = 1, StrideHeight = 2, PaddingHeight = 1)] [BatchNorm] [Tanh]
[Conv2D(4, KernelHeight = 1, KernelWidth = 15, Padding = Conv2DAttribute.Same, Groups = 2)] [ReLU] [MaxPool2D(2)]
[Conv2D(2, KernelHeight = 2, KernelWidth = 4, StrideWidth = 3)] [Sigmoid]
[Dense(3)]
public partial class RectangularNet { }

/// <summary>Grouped convolutions: a depthwise one on the network input (no input gradient), Groups = 2
/// with batch norm and a max pool that tiles exactly (inference does not fuse a grouped convolution), and a
/// grouped 1×1 (Groups = 2, 6 → 4).</summary>
[Network(Channels = 4, Height = 6, Width = 6)]
[Conv2D(4, 3, Groups = 4)] [ReLU]
[Conv2D(6, 3, Padding = 1, Groups = 2)] [BatchNorm] [Sigmoid] [MaxPool2D(2)]
[Conv2D(4, 1, Groups = 2)] [LeakyReLU]
[Dense(3)]
public partial class GroupedNet { }

/// <summary>A ResNet-style stem, 7×7 with stride 2 and padding 3 on a 28-wide input: the padded row is 34
/// wide but the last window ends at column 32, and with 16 vector registers the input-gradient row tiles
/// are 3 columns wide, so the last tile (column 33) is reached by no window. That tile once declared a
/// vector it never used, and the generated code did not compile (CS0168).</summary>
[Network(Channels = 1, Height = 6, Width = 28)]
[Conv2D(2, 1)] [ReLU]
[Conv2D(3, 7, Stride = 2, Padding = 3)] [BatchNorm] [ReLU]
[Dense(3)]
public partial class StridedStem { }

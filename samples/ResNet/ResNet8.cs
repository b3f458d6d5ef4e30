using GraphGen;

namespace GraphGen.Samples;

/// <summary>
/// A small residual network for 28×28 grayscale images: a 3×3 stem, an identity block at 16
/// channels, a projection block that halves the resolution to 14×14 at 32 channels, global average
/// pooling and a linear classifier. Each block's Add is fused into the epilogue of the block's last
/// convolution (batch norm → add → ReLU in one pass).
/// </summary>
[Network(Channels = 1, Height = 28, Width = 28)]
[Conv2D(16, 3, Padding = 1)] [BatchNorm] [ReLU]
[Residual] [Conv2D(16, 3, Padding = 1)] [BatchNorm] [ReLU] [Conv2D(16, 3, Padding = 1)] [BatchNorm] [EndResidual] [ReLU]
[Residual] [Conv2D(32, 3, Stride = 2, Padding = 1)] [BatchNorm] [ReLU] [Conv2D(32, 3, Padding = 1)] [BatchNorm]
           [Shortcut] [Conv2D(32, 1, Stride = 2)] [BatchNorm] [EndResidual] [ReLU]
[GlobalAvgPool2D] [Dense(10)]
public partial class ResNet8 { }

using GraphGen;

namespace GraphGen.Samples;

/// <summary>
/// ResNet8 (<see cref="ResNet8"/>) with a third stage: after the identity block at 16 channels (28×28)
/// and the projection block to 32 channels (14×14), a second projection block halves the resolution
/// again to 7×7 at 128 channels before global average pooling and the classifier. Ten layers carry
/// weights (the stem, six block convolutions, two 1×1 projections, the classifier). The third stage
/// holds most of the 210,378 parameters but works on 49 positions, so a training step costs about 2.4
/// times ResNet8's (94 MFLOP per image against 39); it is the sample's default because ResNet8 underfits
/// FashionMNIST.
/// </summary>
[Network(Channels = 1, Height = 28, Width = 28)]
[Conv2D(16, 3, Padding = 1)] [BatchNorm] [ReLU]
[Residual] [Conv2D(16, 3, Padding = 1)] [BatchNorm] [ReLU] [Conv2D(16, 3, Padding = 1)] [BatchNorm] [EndResidual] [ReLU]
[Residual] [Conv2D(32, 3, Stride = 2, Padding = 1)] [BatchNorm] [ReLU] [Conv2D(32, 3, Padding = 1)] [BatchNorm]
           [Shortcut] [Conv2D(32, 1, Stride = 2)] [BatchNorm] [EndResidual] [ReLU]
[Residual] [Conv2D(128, 3, Stride = 2, Padding = 1)] [BatchNorm] [ReLU] [Conv2D(128, 3, Padding = 1)] [BatchNorm]
           [Shortcut] [Conv2D(128, 1, Stride = 2)] [BatchNorm] [EndResidual] [ReLU]
[GlobalAvgPool2D] [Dense(10)]
public partial class ResNet10 { }

using System;
using GraphGen;
using GraphGen.Samples;

namespace GraphGen.Benchmarks;

/// <summary>784 → 256 → 128 → 10 with batch norm and ReLU after each hidden layer (the Mlp sample's network).</summary>
[Network(Features = 784)]
[Dense(256)] [BatchNorm] [ReLU]
[Dense(128)] [BatchNorm] [ReLU]
[Dense(10)]
public partial class MlpBN { }

/// <summary>VGG-style: two 3×3 convolutions (padding 1, batch norm, ReLU) per stage at 16, 32 and 64
/// channels, a 2×2 max pool after each stage (28 → 14 → 7 → 3), and a linear classifier on 64×3×3.</summary>
[Network(Channels = 1, Height = 28, Width = 28)]
[Conv2D(16, 3, Padding = 1)] [BatchNorm] [ReLU] [Conv2D(16, 3, Padding = 1)] [BatchNorm] [ReLU] [MaxPool2D(2, Stride = 2)]
[Conv2D(32, 3, Padding = 1)] [BatchNorm] [ReLU] [Conv2D(32, 3, Padding = 1)] [BatchNorm] [ReLU] [MaxPool2D(2, Stride = 2)]
[Conv2D(64, 3, Padding = 1)] [BatchNorm] [ReLU] [Conv2D(64, 3, Padding = 1)] [BatchNorm] [ReLU] [MaxPool2D(2, Stride = 2)]
[Dense(10)]
public partial class Vgg { }

/// <summary>MobileNet-style depthwise-separable: a 3×3 stem at 16 channels, then three blocks of a depthwise
/// 3×3 convolution (Groups = channels) and a pointwise 1×1 convolution doubling the channels (16 → 32 → 64 →
/// 128), each followed by batch norm and ReLU, with 2×2 max pools after the first two blocks (28 → 14 → 7),
/// global average pooling and a linear classifier.</summary>
[Network(Channels = 1, Height = 28, Width = 28)]
[Conv2D(16, 3, Padding = 1)] [BatchNorm] [ReLU]
[Conv2D(16, 3, Padding = 1, Groups = 16)] [BatchNorm] [ReLU] [Conv2D(32, 1)] [BatchNorm] [ReLU] [MaxPool2D(2, Stride = 2)]
[Conv2D(32, 3, Padding = 1, Groups = 32)] [BatchNorm] [ReLU] [Conv2D(64, 1)] [BatchNorm] [ReLU] [MaxPool2D(2, Stride = 2)]
[Conv2D(64, 3, Padding = 1, Groups = 64)] [BatchNorm] [ReLU] [Conv2D(128, 1)] [BatchNorm] [ReLU]
[GlobalAvgPool2D] [Dense(10)]
public partial class DepthwiseSeparable { }

/// <summary>The networks `suite` runs, by the name its --networks option takes. All read a 28×28
/// FashionMNIST image (784 floats) and give 10 logits, so one batch of data feeds them all.</summary>
internal static class SuiteNetworks
{
    public static readonly (string Name, Func<NetworkOptions, INetwork> Create)[] All =
    [
        ("mlp", o => new MlpBN(o)),
        ("lenet", o => new LeNet(o)),   // samples/LeNet/LeNet.cs
        ("vgg", o => new Vgg(o)),
        ("resnet", o => new ResNet8(o)), // samples/ResNet/ResNet8.cs
        ("depthwise", o => new DepthwiseSeparable(o)),
    ];
}

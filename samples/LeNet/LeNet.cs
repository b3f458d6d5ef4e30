using GraphGen;

namespace GraphGen.Samples;

/// <summary>LeNet with batch normalization (d2l.ai, "Batch Normalization"), for 28x28 FashionMNIST.</summary>
[Network(Channels = 1, Height = 28, Width = 28)]
[Conv2D(6, Kernel = 5)]  [BatchNorm] [Sigmoid] [MaxPool2D(2, Stride = 2)]
[Conv2D(16, Kernel = 5)] [BatchNorm] [Sigmoid] [MaxPool2D(2, Stride = 2)]
[Dense(120)] [BatchNorm] [Sigmoid]
[Dense(84)]  [BatchNorm] [Sigmoid]
[Dense(10)]
public partial class LeNet { }

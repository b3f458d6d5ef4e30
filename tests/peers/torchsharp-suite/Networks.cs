// The networks of GraphGen's benchmark suite (tests/GraphGen.Benchmarks/SuiteNetworks.cs, samples/LeNet/LeNet.cs,
// samples/ResNet/ResNet8.cs) in TorchSharp, layer for layer with the same shapes: convolutions and linear
// layers with bias, batch norm (eps 1e-5), 28x28 single-channel input, 10 classes.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

static class Networks
{
    public static readonly string[] Names = ["mlp", "lenet", "vgg", "resnet", "depthwise"];

    public static Module<Tensor, Tensor> Build(string name) => name switch
    {
        // 784 -> 256 -> 128 -> 10, batch norm and ReLU after each hidden layer.
        "mlp" => Sequential(
            ("flat", Flatten()),
            ("fc1", Linear(784, 256)), ("bn1", BatchNorm1d(256)), ("relu1", ReLU()),
            ("fc2", Linear(256, 128)), ("bn2", BatchNorm1d(128)), ("relu2", ReLU()),
            ("fc3", Linear(128, 10))),
        // LeNet-BN as in the original peer program (d2l.ai "Batch Normalization").
        "lenet" => Sequential(
            ("conv1", Conv2d(1, 6, kernel_size: 5)), ("bn1", BatchNorm2d(6)), ("sig1", Sigmoid()), ("pool1", MaxPool2d(kernel_size: 2, stride: 2)),
            ("conv2", Conv2d(6, 16, kernel_size: 5)), ("bn2", BatchNorm2d(16)), ("sig2", Sigmoid()), ("pool2", MaxPool2d(kernel_size: 2, stride: 2)),
            ("flat", Flatten()),
            ("fc1", Linear(16 * 4 * 4, 120)), ("bn3", BatchNorm1d(120)), ("sig3", Sigmoid()),
            ("fc2", Linear(120, 84)), ("bn4", BatchNorm1d(84)), ("sig4", Sigmoid()),
            ("fc3", Linear(84, 10))),
        // VGG-style: two 3x3 convolutions per stage at 16, 32, 64 channels, 2x2 max pools (28 -> 14 -> 7 -> 3).
        "vgg" => Sequential(
            ("conv1", Conv2d(1, 16, 3, padding: 1)), ("bn1", BatchNorm2d(16)), ("relu1", ReLU()),
            ("conv2", Conv2d(16, 16, 3, padding: 1)), ("bn2", BatchNorm2d(16)), ("relu2", ReLU()), ("pool1", MaxPool2d(2, 2)),
            ("conv3", Conv2d(16, 32, 3, padding: 1)), ("bn3", BatchNorm2d(32)), ("relu3", ReLU()),
            ("conv4", Conv2d(32, 32, 3, padding: 1)), ("bn4", BatchNorm2d(32)), ("relu4", ReLU()), ("pool2", MaxPool2d(2, 2)),
            ("conv5", Conv2d(32, 64, 3, padding: 1)), ("bn5", BatchNorm2d(64)), ("relu5", ReLU()),
            ("conv6", Conv2d(64, 64, 3, padding: 1)), ("bn6", BatchNorm2d(64)), ("relu6", ReLU()), ("pool3", MaxPool2d(2, 2)),
            ("flat", Flatten()),
            ("fc", Linear(64 * 3 * 3, 10))),
        "resnet" => new ResNet8(),
        // MobileNet-style: a 3x3 stem, then depthwise 3x3 (groups = channels) + pointwise 1x1 blocks, 16 -> 32 -> 64 -> 128,
        // 2x2 max pools after the first two blocks, global average pooling, a linear layer.
        "depthwise" => Sequential(
            ("conv0", Conv2d(1, 16, 3, padding: 1)), ("bn0", BatchNorm2d(16)), ("relu0", ReLU()),
            ("dw1", Conv2d(16, 16, 3, padding: 1, groups: 16)), ("bn1", BatchNorm2d(16)), ("relu1", ReLU()),
            ("pw1", Conv2d(16, 32, 1)), ("bn2", BatchNorm2d(32)), ("relu2", ReLU()), ("pool1", MaxPool2d(2, 2)),
            ("dw2", Conv2d(32, 32, 3, padding: 1, groups: 32)), ("bn3", BatchNorm2d(32)), ("relu3", ReLU()),
            ("pw2", Conv2d(32, 64, 1)), ("bn4", BatchNorm2d(64)), ("relu4", ReLU()), ("pool2", MaxPool2d(2, 2)),
            ("dw3", Conv2d(64, 64, 3, padding: 1, groups: 64)), ("bn5", BatchNorm2d(64)), ("relu5", ReLU()),
            ("pw3", Conv2d(64, 128, 1)), ("bn6", BatchNorm2d(128)), ("relu6", ReLU()),
            ("gap", AdaptiveAvgPool2d(1)), ("flat", Flatten()),
            ("fc", Linear(128, 10))),
        _ => throw new ArgumentException($"no network '{name}' in the suite (it has {string.Join(", ", Names)})"),
    };
}

/// <summary>GraphGen's ResNet8 sample: a 3x3 stem at 16 channels, an identity block, a projection block
/// to 32 channels at 14x14 (1x1 strided shortcut with batch norm), global average pooling, a linear layer.</summary>
sealed class ResNet8 : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> conv0 = Conv2d(1, 16, 3, padding: 1), bn0 = BatchNorm2d(16);
    private readonly Module<Tensor, Tensor> conv1 = Conv2d(16, 16, 3, padding: 1), bn1 = BatchNorm2d(16);
    private readonly Module<Tensor, Tensor> conv2 = Conv2d(16, 16, 3, padding: 1), bn2 = BatchNorm2d(16);
    private readonly Module<Tensor, Tensor> conv3 = Conv2d(16, 32, 3, stride: 2, padding: 1), bn3 = BatchNorm2d(32);
    private readonly Module<Tensor, Tensor> conv4 = Conv2d(32, 32, 3, padding: 1), bn4 = BatchNorm2d(32);
    private readonly Module<Tensor, Tensor> shortcut = Conv2d(16, 32, 1, stride: 2), bnShortcut = BatchNorm2d(32);
    private readonly Module<Tensor, Tensor> fc = Linear(32, 10);

    public ResNet8() : base(nameof(ResNet8)) => RegisterComponents();

    public override Tensor forward(Tensor x)
    {
        var y = functional.relu(bn0.call(conv0.call(x)));
        var a = functional.relu(bn1.call(conv1.call(y)));
        y = functional.relu(bn2.call(conv2.call(a)) + y);
        var b = functional.relu(bn3.call(conv3.call(y)));
        y = functional.relu(bn4.call(conv4.call(b)) + bnShortcut.call(shortcut.call(y)));
        y = functional.adaptive_avg_pool2d(y, 1).flatten(1);
        return fc.call(y);
    }
}

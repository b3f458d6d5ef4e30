using System;
using System.Linq;
using GraphGen.Samples;
using Xunit;

namespace GraphGen.Tests.Benchmarks;

/// <summary>
/// The ResNet sample's networks (samples/ResNet) against their sizes worked out by hand from the layer
/// shapes: the parameters and the operations per image that the sample's README section quotes.
/// </summary>
public class ResNetSampleCostTests
{
    // A k×k convolution from cin to cout channels has cout·cin·k² weights and cout biases; batch norm
    // has γ and β per channel; the classifier reads the 128 (ResNet10) or 32 (ResNet8) pooled channels.
    private static long Conv(long cin, long cout, long k) => cout * cin * k * k + cout + 2 * cout;

    [Fact]
    public void ResNet10MatchesTheHandCount()
    {
        using var net = new ResNet10();
        long parameters = Conv(1, 16, 3) + 2 * Conv(16, 16, 3)             // stem, identity block at 28×28
            + Conv(16, 32, 3) + Conv(32, 32, 3) + Conv(16, 32, 1)           // projection block to 14×14
            + Conv(32, 128, 3) + Conv(128, 128, 3) + Conv(32, 128, 1)       // projection block to 7×7
            + 128 * 10 + 10;
        Assert.Equal(210_378, parameters);
        Assert.Equal(parameters, net.Tensors.Where(t => t.Kind == TensorKind.Parameter).Sum(t => (long)net.Tensor(t.Name).Length));

        long stem = 16 * 28 * 28 * (1 * 9);                                         // reads the input: no input gradient
        long rest = 2 * (16 * 28 * 28 * (16 * 9))                                   // identity block
            + 32 * 14 * 14 * (16 * 9) + 32 * 14 * 14 * (32 * 9) + 32 * 14 * 14 * 16  // to 14×14, with the 1×1 shortcut
            + 128 * 7 * 7 * (32 * 9) + 128 * 7 * 7 * (128 * 9) + 128 * 7 * 7 * 32     // to 7×7
            + 128 * 10;
        Assert.Equal(2 * (stem + rest), FlopCount.Forward(net));
        Assert.Equal(2 * (2 * stem + 3 * rest), FlopCount.TrainingStep(net));
        Assert.Equal(31.5, Math.Round(FlopCount.Forward(net) / 1e6, 1));      // the README's figures
        Assert.Equal(94.4, Math.Round(FlopCount.TrainingStep(net) / 1e6, 1));
    }

    [Fact]
    public void ResNet8MatchesTheHandCount()
    {
        using var net = new ResNet8();
        long parameters = Conv(1, 16, 3) + 2 * Conv(16, 16, 3) + Conv(16, 32, 3) + Conv(32, 32, 3) + Conv(16, 32, 1) + 32 * 10 + 10;
        Assert.Equal(19_850, parameters);
        Assert.Equal(parameters, net.Tensors.Where(t => t.Kind == TensorKind.Parameter).Sum(t => (long)net.Tensor(t.Name).Length));
        Assert.Equal(39.0, Math.Round(FlopCount.TrainingStep(net) / 1e6, 1));
    }
}

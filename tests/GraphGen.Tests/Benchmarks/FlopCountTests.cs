using System;
using GraphGen.Tests.Nets;
using Xunit;

namespace GraphGen.Tests.Benchmarks;

/// <summary>
/// FlopCount against operation counts worked out by hand from the layer shapes (2 per multiply-add;
/// weight gradients as many as the forward pass; input gradients as many again where the backward
/// pass needs them).
/// </summary>
public class FlopCountTests
{
    [Fact]
    public void LeNetMatchesTheHandCount()
    {
        using var net = new LeNet();
        long conv1 = 6 * 24 * 24 * (1 * 5 * 5);  // 86,400 multiply-adds, reads the input: no input gradient
        long conv2 = 16 * 8 * 8 * (6 * 5 * 5);   // 153,600
        long dense = 256 * 120 + 120 * 84 + 84 * 10; // 41,640
        Assert.Equal(563_280, 2 * (conv1 + conv2 + dense));
        Assert.Equal(563_280, FlopCount.Forward(net));
        Assert.Equal(1_517_040, 2 * (2 * conv1 + 3 * (conv2 + dense)));
        Assert.Equal(1_517_040, FlopCount.TrainingStep(net));
        Assert.Equal(1.52, Math.Round(FlopCount.TrainingStep(net) / 1e6, 2)); // the README's "1.52 MFLOP"
    }

    [Fact]
    public void ResidualBlocksCountTheShortcutConvolution()
    {
        using var net = new ResidualNet(); // 2×8×8 input, channels 4 then 6
        long stem = 4 * 8 * 8 * (2 * 9);                 // 4,608, reads the input
        long identityBlock = 2 * (4 * 8 * 8 * (4 * 9));  // 18,432
        long strided = 6 * 4 * 4 * (4 * 9), second = 6 * 4 * 4 * (6 * 9), shortcut = 6 * 4 * 4 * 4; // 3,456, 5,184, 384
        long dense = 6 * 5;
        long rest = identityBlock + strided + second + shortcut + dense;
        Assert.Equal(2 * (stem + rest), FlopCount.Forward(net));
        Assert.Equal(64_188, FlopCount.Forward(net));
        Assert.Equal(2 * (2 * stem + 3 * rest), FlopCount.TrainingStep(net));
        Assert.Equal(183_348, FlopCount.TrainingStep(net));
    }

    [Fact]
    public void GroupedAndDepthwiseConvolutionsCountOnlyTheirGroupsChannels()
    {
        using var net = new GroupedNet(); // 4×6×6 input
        long depthwise = 4 * 4 * 4 * (1 * 9);        // Groups = 4: each output reads 1 channel; 576, reads the input
        long grouped = 6 * 4 * 4 * (2 * 9);          // 4 → 6 in 2 groups: 2 input channels each; 1,728
        long pointwise = 4 * 2 * 2 * 3;              // 6 → 4 in 2 groups of 3, after the 2×2 pool; 48
        long dense = 4 * 2 * 2 * 3;                  // 48
        Assert.Equal(2 * (depthwise + grouped + pointwise + dense), FlopCount.Forward(net));
        Assert.Equal(4_800, FlopCount.Forward(net));
        Assert.Equal(2 * (2 * depthwise + 3 * (grouped + pointwise + dense)), FlopCount.TrainingStep(net));
    }

    [Fact]
    public void RectangularKernelsCountRowsTimesColumns()
    {
        using var net = new RectangularNet(); // 2×9×20 input
        long first = 4 * 5 * 20 * (2 * 3 * 1);        // 3×1, stride 2×1, padding 1×0: 5×20 outputs; 2,400
        long second = 4 * 5 * 20 * (2 * 1 * 15);      // 1×15 "same", 2 groups of 2 channels; 12,000
        long third = 2 * 1 * 3 * (4 * 2 * 4);         // after the 2×2 pool (2×10): 2×4 window, stride 1×3 → 1×3; 192
        long dense = 2 * 1 * 3 * 3;                   // 18
        Assert.Equal(2 * (first + second + third + dense), FlopCount.Forward(net));
        Assert.Equal(29_220, FlopCount.Forward(net));
    }

    [Fact]
    public void AnInputGradientIsCountedWhenAnyPathToTheLayerIsTrained()
    {
        // conv 1×1 on the input (no input gradient); its Tanh is added to the input itself, and the 3×3
        // convolution reading that sum needs its input gradient for the first convolution's weights.
        using var net = new ResidualEdges(); // 3×6×6 input
        long first = 3 * 6 * 6 * 3;
        long rest = 4 * 4 * 4 * (3 * 9) + 4 * 4 * 4 * 4 + 64 * 6 + 6 * 6 + 6 * 3;
        Assert.Equal(2 * (first + rest), FlopCount.Forward(net));
        Assert.Equal(15_828, FlopCount.TrainingStep(net));
    }

    [Fact]
    public void AConvolutionOfThePooledInputComputesNoInputGradient()
    {
        LayerInfo[] layers =
        [
            new("maxpool1", LayerKind.MaxPool2D, [1, 4, 4], [1, 2, 2], Kernel: 2, Stride: 2),
            new("conv1", LayerKind.Conv2D, [1, 2, 2], [3, 2, 2], Outputs: 3, Kernel: 1, Stride: 1),
            new("dense1", LayerKind.Dense, [3, 2, 2], [2], Outputs: 2),
        ];
        Assert.Equal(2 * (12 + 24), FlopCount.Forward(layers));
        Assert.Equal(2 * (2 * 12 + 3 * 24), FlopCount.TrainingStep(layers));
    }

    [Fact]
    public void ALayerReadingAnUnknownValueIsNamed()
    {
        LayerInfo[] layers =
        [
            new("dense1", LayerKind.Dense, [4], [3], Outputs: 3),
            new("add1", LayerKind.Add, [3], [3]) { Inputs = ["dense1", "dense7"] },
        ];
        var e = Assert.Throws<ArgumentException>(() => FlopCount.TrainingStep(layers));
        Assert.Contains("'add1' reads 'dense7'", e.Message);
    }

    [Fact]
    public void AnUnknownLayerKindIsRefusedNotCountedAsFree()
    {
        LayerInfo[] layers = [new("mystery1", (LayerKind)999, [4], [4])];
        var e = Assert.Throws<NotSupportedException>(() => FlopCount.Forward(layers));
        Assert.Contains("'mystery1'", e.Message);
    }
}

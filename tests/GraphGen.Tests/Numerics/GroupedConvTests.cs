using System;
using System.Linq;
using GraphGen.Checkpoints;
using GraphGen.Tests.Nets;
using Xunit;

namespace GraphGen.Tests.Numerics;

/// <summary>What a grouped or rectangular convolution tells the runtime: its geometry in
/// <see cref="LayerInfo"/>, its weight shape, its Xavier initialization (fan-in = input channels / Groups
/// × kh × kw) and its line in the checkpoint's architecture. The numbers are the networks' own
/// (tests/GraphGen.Tests/Networks.cs), worked out by hand.</summary>
public class GroupedConvTests
{
    [Fact]
    public void Layer_info_and_weight_shapes_carry_groups_and_both_axes()
    {
        using var net = new RectangularNet(new NetworkOptions { MaxBatch = 4 });
        // conv1: 3x1 kernel, stride 2x1, padding 1x0 on 2x9x20 → 4 x ((9 + 2 − 3)/2 + 1) x 20 = 4x5x20.
        var conv1 = net.Layers[0];
        Assert.Equal((3, 1, 2, 1, 1, 0, 1), (conv1.Kernel, conv1.KernelWidth, conv1.Stride, conv1.StrideWidth, conv1.Padding, conv1.PaddingWidth, conv1.Groups));
        Assert.Equal(new[] { 4, 5, 20 }, conv1.OutputShape);
        // conv2: 1x15 with Padding = Same → padding 0x7, so 4x5x20 again; Groups = 2, so each filter reads 2 channels.
        var conv2 = net.Layers.Single(l => l.Name == "conv2");
        Assert.Equal((1, 15, 0, 7, 2), (conv2.Kernel, conv2.KernelWidth, conv2.Padding, conv2.PaddingWidth, conv2.Groups));
        Assert.Equal(new[] { 4, 5, 20 }, conv2.OutputShape);
        Assert.Equal(new[] { 4, 2, 1, 15 }, net.Tensors.Single(t => t.Name == "conv2.weight").Shape);

        using var grouped = new GroupedNet(new NetworkOptions { MaxBatch = 4 });
        // conv2: Groups = 2, 4 → 6 channels: each filter reads 2 channels.
        var g2 = grouped.Layers.Single(l => l.Name == "conv2");
        Assert.Equal(2, g2.Groups);
        Assert.Equal(new[] { 6, 2, 3, 3 }, grouped.Tensors.Single(t => t.Name == "conv2.weight").Shape);
        // conv1 is depthwise: 4 groups of one channel.
        Assert.Equal(new[] { 4, 1, 3, 3 }, grouped.Tensors.Single(t => t.Name == "conv1.weight").Shape);
    }

    [Fact]
    public void Xavier_bound_uses_the_channels_of_one_group()
    {
        // DepthwiseNet's conv2 is depthwise 3x3 on 4 channels: fan-in = fan-out = 1·3·3 = 9, so the weights are
        // uniform in ±√(6/18) = ±0.577. Ungrouped (fan-in = fan-out = 36) the bound would be ±√(6/72) = ±0.289.
        using var net = new DepthwiseNet(new NetworkOptions { Seed = 3, MaxBatch = 4 });
        float[] w = net.Tensor("conv2.weight").ToArray();
        Assert.Equal(36, w.Length);
        double bound = Math.Sqrt(6.0 / 18);
        Assert.All(w, v => Assert.InRange(Math.Abs(v), 0, bound));
        // 36 draws from U(−0.577, 0.577) all inside ±0.289 has probability 2^−36: the bound really is the wider one.
        Assert.True(w.Max(Math.Abs) > Math.Sqrt(6.0 / 72), $"largest |w| {w.Max(Math.Abs)}");
    }

    [Fact]
    public void Checkpoint_architecture_names_rectangular_windows_and_groups()
    {
        using var net = new DepthwiseNet(new NetworkOptions { MaxBatch = 4 });
        string architecture = Checkpoint.Architecture(net);
        // The strided depthwise conv (conv4): square 3x3, stride 2, "same" padding 1, 4 groups.
        Assert.Contains("Conv2D(outputs 8, kernel 3, stride 2, padding 1, groups 4)", architecture);
        // An ungrouped square conv reads as before.
        Assert.Contains("Conv2D(outputs 4, kernel 1, stride 1)", architecture);

        using var rect = new RectangularNet(new NetworkOptions { MaxBatch = 4 });
        Assert.Contains("Conv2D(outputs 4, kernel 3x1, stride 2x1, padding 1x0)", Checkpoint.Architecture(rect));
        Assert.Contains("Conv2D(outputs 4, kernel 1x15, stride 1, padding 0x7, groups 2)", Checkpoint.Architecture(rect));
    }
}

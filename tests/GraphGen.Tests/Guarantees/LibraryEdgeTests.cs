using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Tests.Nets;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Guarantees;

/// <summary>Library calls with arguments that cannot be right get one clear exception that names the
/// problem, before anything is computed or written.</summary>
public class LibraryEdgeTests
{
    private static Dataset WithLabels(params int[] labels)
    {
        var pixels = new byte[labels.Length * 784];
        new Random(1).NextBytes(pixels);
        return new Dataset(pixels, labels, 28, 28);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EvaluateRefusesLabelsThatAreNotClasses(bool withConfusion)
    {
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = 1 });
        Dataset data = WithLabels(3, 9, 10, 2);
        long[,]? confusion = withConfusion ? new long[10, 10] : null;
        var e = Assert.Throws<ArgumentException>(() => Trainer.Evaluate(net, data, confusion));
        Assert.Equal("data", e.ParamName);
        Assert.Contains("label 10 of sample 2", e.Message);
        Assert.Contains("0..9", e.Message);
        if (confusion is not null) Assert.All(confusion.Cast<long>(), v => Assert.Equal(0, v)); // nothing counted
    }

    [Theory]
    [InlineData(9, 10)]
    [InlineData(10, 9)]
    [InlineData(11, 11)]
    [InlineData(0, 0)]
    public void EvaluateRefusesAWronglySizedConfusionMatrix(int rows, int columns)
    {
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = 1 });
        var confusion = new long[rows, columns];
        var e = Assert.Throws<ArgumentException>(() => Trainer.Evaluate(net, WithLabels(9, 9, 0), confusion));
        Assert.Equal("confusion", e.ParamName);
        Assert.Contains($"{rows} x {columns}", e.Message);
        Assert.Contains("must be 10 x 10", e.Message);
    }

    [Fact]
    public void EvaluateCountsEveryLabelOfARightDataSet()
    {
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = 1 });
        Dataset data = WithLabels(0, 9, 9, 4, 1);
        var confusion = new long[10, 10];
        double accuracy = Trainer.Evaluate(net, data, confusion);
        long diagonal = Enumerable.Range(0, 10).Sum(i => confusion[i, i]);
        Assert.Equal(diagonal / 5.0, accuracy);
        Assert.Equal(new long[] { 1, 1, 0, 0, 1, 0, 0, 0, 0, 2 }, Enumerable.Range(0, 10).Select(l => Enumerable.Range(0, 10).Sum(p => confusion[l, p])));
    }

    [Fact]
    public void EvaluateRefusesImagesOfAnotherSize()
    {
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = 1 });
        var e = Assert.Throws<ArgumentException>(() => Trainer.Evaluate(net, new Dataset(new byte[2 * 100], [1, 2], 10, 10)));
        Assert.Contains("784", e.Message);
        Assert.Contains("100", e.Message);
    }

    [Fact]
    public void EveryUseAfterDisposeThrowsObjectDisposed()
    {
        using var dir = new ScratchDir();
        var net = new LeNet(new NetworkOptions { Seed = 1, Threads = 2, MaxBatch = 8 });
        var (x, labels) = Numerics.TestNets.Batch(net, 8, seed: 1);
        net.Dispose();
        net.Dispose(); // twice is fine
        string path = dir.File("after-dispose.safetensors");
        var calls = new Dictionary<string, Action>
        {
            ["Tensor"] = () => net.Tensor("conv1.weight"),
            ["Gradient"] = () => net.Gradient("conv1.weight"),
            ["Summary"] = () => net.Summary(),
            ["TrainStep"] = () => net.TrainStep(x, labels, 0.1f),
            ["Infer"] = () => net.Infer(x, new float[8 * 10]),
            ["Checkpoint.Save"] = () => Checkpoint.Save(net, path),
        };
        foreach (var (name, call) in calls)
        {
            var e = Assert.Throws<ObjectDisposedException>(call);
            Assert.True(e.Message.Contains("LeNet", StringComparison.Ordinal), $"{name}: '{e.Message}' does not name the network");
        }
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path)); // Save wrote nothing, not even a temp file
    }
}

/// <summary>The network's descriptive properties are views made once: reading them allocates nothing.</summary>
public class DescriptionAllocationTests
{
    [Fact]
    public void Reading_the_layers_tensors_and_input_shape_allocates_nothing()
    {
        using var net = new GraphGen.Tests.Nets.LeNet(new NetworkOptions { MaxBatch = 16 });
        int sum = net.Layers.Count + net.Tensors.Count + net.InputShape.Count; // warm up
        long before = System.GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) sum += net.Layers.Count + net.Tensors.Count + net.InputShape.Count;
        long allocated = System.GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Same(net.Tensors, net.Tensors);
        Assert.True(sum > 0);
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using GraphGen.Data;
using GraphGen.Tests.Nets;
using GraphGen.Tests.Numerics;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Guarantees;

/// <summary>
/// Same seed, same SIMD path → bit-identical parameters and moving statistics after training, whatever
/// the thread count and however often it is run; a different seed → different weights.
/// </summary>
public class ReproducibilityTests
{
    private const int Steps = 3;

    // Networks with batch norm (moving statistics), convolutions, pools and plain dense layers.
    private static readonly string[] Networks = { "LeNet", "ConvBnPool", "Pools", "Mlp", "StridePad", "ResidualNet", "ResidualEdges", "ConcatNet", "ConcatEdges", "DropoutNet", "DepthwiseNet", "RectangularNet", "GroupedNet" };

    public static IEnumerable<object[]> Cases =>
        from name in Networks
        from batch in new[] { 37, 64 } // 37 leaves a partial last chunk on every vector width; 64 fills all of them
        select new object[] { name, batch };

    /// <summary>Trains <see cref="Steps"/> steps on fixed data; returns every tensor and the step results.</summary>
    private static (Dictionary<string, float[]> Tensors, StepResult[] Results, SimdPath Simd) Train(string name, int seed, int threads, int batch, SimdPath simd = SimdPath.Auto)
    {
        using INetwork net = TestNets.Create(name, simd, threads, seed, maxBatch: 64, randomize: false);
        Assert.Equal(threads, net.Threads);
        var results = new StepResult[Steps];
        for (int s = 0; s < Steps; s++)
        {
            var (x, labels) = TestNets.Batch(net, batch, seed: 1000 + s); // the data does not depend on the network's seed
            results[s] = net.TrainStep(x, labels, 0.5f);
            Assert.True(results[s].IsFinite, $"{name} step {s} is not finite");
        }
        return (Bits.Snapshot(net), results, net.Simd);
    }

    private static void AssertSameResults(StepResult[] expected, StepResult[] actual, string context)
    {
        for (int s = 0; s < expected.Length; s++)
        {
            Assert.True(Bits.SameBits(expected[s].LossSum, actual[s].LossSum), $"{context}: step {s} loss {actual[s].LossSum:R} vs {expected[s].LossSum:R}");
            Assert.Equal(expected[s].Correct, actual[s].Correct);
            Assert.Equal(expected[s].Count, actual[s].Count);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SameSeedSameBitsAcrossRunsAndThreadCounts(string name, int batch)
    {
        var first = Train(name, seed: 11, threads: 1, batch);
        var again = Train(name, seed: 11, threads: 1, batch);
        Bits.AssertIdentical(first.Tensors, again.Tensors, $"{name}, batch {batch}, {first.Simd}: second run in the same process");
        AssertSameResults(first.Results, again.Results, $"{name}, batch {batch}: second run");
        foreach (int threads in new[] { 2, 3 })
        {
            var other = Train(name, seed: 11, threads, batch);
            Assert.Equal(first.Simd, other.Simd);
            Bits.AssertIdentical(first.Tensors, other.Tensors, $"{name}, batch {batch}, {first.Simd}: {threads} threads vs 1");
            AssertSameResults(first.Results, other.Results, $"{name}, batch {batch}: {threads} threads vs 1");
        }
    }

    [Theory]
    [InlineData("LeNet", SimdPath.Scalar)]
    [InlineData("LeNet", SimdPath.Vector128)]
    [InlineData("Pools", SimdPath.Vector256)]
    public void ThreadCountDoesNotMatterOnOtherPaths(string name, SimdPath simd)
    {
        var one = Train(name, seed: 5, threads: 1, batch: 37, simd);
        var three = Train(name, seed: 5, threads: 3, batch: 37, simd);
        Assert.Equal(simd, one.Simd);
        Bits.AssertIdentical(one.Tensors, three.Tensors, $"{name} on {simd}: 3 threads vs 1");
        AssertSameResults(one.Results, three.Results, $"{name} on {simd}: 3 threads vs 1");
    }

    [Theory]
    [InlineData("LeNet")]
    [InlineData("ConvBnPool")]
    [InlineData("Mlp")]
    public void DifferentSeedDifferentWeights(string name)
    {
        using (INetwork a = TestNets.Create(name, seed: 1, randomize: false))
        using (INetwork b = TestNets.Create(name, seed: 2, randomize: false))
        {
            foreach (TensorInfo t in a.Tensors.Where(t => t.Name.EndsWith(".weight", StringComparison.Ordinal)))
                Assert.True(Bits.FirstDifference(
                    new Dictionary<string, float[]> { [t.Name] = a.Tensor(t.Name).ToArray() },
                    new Dictionary<string, float[]> { [t.Name] = b.Tensor(t.Name).ToArray() }) is not null,
                    $"{name}: {t.Name} is the same for seeds 1 and 2");
        }
        var one = Train(name, seed: 1, threads: 1, batch: 37);
        var two = Train(name, seed: 2, threads: 1, batch: 37);
        Assert.NotNull(Bits.FirstDifference(one.Tensors, two.Tensors));
    }

    private static EpochResult[] RunTrainer(int netSeed, int trainSeed, int threads, Dataset train, Dataset test, int epochs = 2)
    {
        using var net = new LeNet(new NetworkOptions { Seed = netSeed, Threads = threads, MaxBatch = 64 });
        var trainer = new Trainer(net, train, test, new TrainOptions { Epochs = epochs, BatchSize = 64, LearningRate = 0.9f, Seed = trainSeed });
        return Enumerable.Range(1, epochs).Select(trainer.RunEpoch).ToArray();
    }

    [Fact]
    public void TrainerEpochsAreReproducible()
    {
        Dataset train = Bits.RandomImages(600, seed: 3); // 600 = 9 x 64 + 24: a partial last batch
        Dataset test = Bits.RandomImages(100, seed: 4);
        EpochResult[] a = RunTrainer(21, 8, threads: 1, train, test);
        EpochResult[] b = RunTrainer(21, 8, threads: 1, train, test);
        EpochResult[] c = RunTrainer(21, 8, threads: 2, train, test);
        foreach (var (other, what) in new[] { (b, "second run"), (c, "2 threads") })
        {
            for (int e = 0; e < a.Length; e++)
            {
                Assert.Equal(a[e].Epoch, other[e].Epoch);
                Assert.Equal(a[e].Samples, other[e].Samples);
                Assert.True(Bits.SameBits(a[e].Loss, other[e].Loss), $"{what}: epoch {e + 1} loss {other[e].Loss:R} vs {a[e].Loss:R}");
                Assert.True(Bits.SameBits(a[e].TrainAccuracy, other[e].TrainAccuracy), $"{what}: epoch {e + 1} train accuracy {other[e].TrainAccuracy:R} vs {a[e].TrainAccuracy:R}");
                Assert.True(Bits.SameBits(a[e].TestAccuracy, other[e].TestAccuracy), $"{what}: epoch {e + 1} test accuracy {other[e].TestAccuracy:R} vs {a[e].TestAccuracy:R}");
            }
        }
        Assert.True(a.All(r => double.IsFinite(r.Loss) && r.Samples == 600));
        // The shuffle seed matters: another one gives another first-epoch loss.
        EpochResult[] d = RunTrainer(21, 9, threads: 1, train, test, epochs: 1);
        Assert.False(Bits.SameBits(a[0].Loss, d[0].Loss), "a different shuffle seed gave the same epoch-1 loss");
    }

    [Fact]
    public void EpochOrderDependsOnlyOnSeedAndEpoch()
    {
        var a = new int[600];
        var b = new int[600];
        Trainer.EpochOrder(a, seed: 4, epoch: 2, shuffle: true);
        Trainer.EpochOrder(b, seed: 4, epoch: 2, shuffle: true);
        Assert.Equal(a, b);
        Assert.Equal(Enumerable.Range(0, 600), a.OrderBy(i => i)); // a permutation
        Trainer.EpochOrder(b, seed: 4, epoch: 3, shuffle: true);
        Assert.NotEqual(a, b);
        Trainer.EpochOrder(b, seed: 4, epoch: 3, shuffle: false);
        Assert.Equal(Enumerable.Range(0, 600), b);
    }
}

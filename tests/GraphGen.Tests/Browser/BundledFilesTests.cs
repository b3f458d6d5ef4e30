using System;
using System.IO;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Samples;
using GraphGen.Tests.Packaging;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Browser;

/// <summary>What samples/Web ships in wwwroot: the first 3,000 FashionMNIST training images and the first
/// 1,000 test images, unchanged, and a LeNet checkpoint from `lenet train` that loads into the sample's LeNet.</summary>
public class BundledFilesTests
{
    private static string Wwwroot => Path.Combine(PackageTests.RepositoryRoot(), "samples", "Web", "wwwroot");

    private static Dataset Bundled(string name) =>
        Idx.LoadDataset(Path.Combine(Wwwroot, "data", $"{name}-images-idx3-ubyte.gz"), Path.Combine(Wwwroot, "data", $"{name}-labels-idx1-ubyte.gz"), 10);

    [Fact]
    public void TheDataAreTheFirstImagesOfFashionMnist()
    {
        Assert.True(FashionMnist.IsInstalled(), "needs FashionMNIST in /usr/share/datasets/fashion-mnist (apt-get install -y dataset-fashion-mnist)");
        foreach (var (name, full, count) in new[] { ("train-3000", FashionMnist.LoadTrain(), 3000), ("test-1000", FashionMnist.LoadTest(), 1000) })
        {
            Dataset bundled = Bundled(name);
            Dataset source = full.Take(count);
            Assert.Equal(count, bundled.Count);
            Assert.Equal([1, 28, 28], bundled.Shape);
            Assert.True(bundled.Pixels.SequenceEqual(source.Pixels), $"{name}: the pixels differ from FashionMNIST's first {count}");
            Assert.True(bundled.Labels.SequenceEqual(source.Labels), $"{name}: the labels differ from FashionMNIST's first {count}");
        }
    }

    [Fact]
    public void TheCheckpointIsATrainedLeNet()
    {
        using var net = new LeNet(new NetworkOptions { Threads = 1 });
        Checkpoint.Load(net, Path.Combine(Wwwroot, "lenet.safetensors")); // refuses another network's weights
        Assert.InRange(new FileInfo(Path.Combine(Wwwroot, "lenet.safetensors")).Length, 150_000, 250_000);
        double accuracy = Trainer.Evaluate(net, Bundled("test-1000"));
        Assert.True(accuracy >= 0.8, $"the bundled checkpoint reaches {accuracy:P1} on the bundled test images; a trained LeNet reaches 85 % or more");
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using GraphGen.Checkpoints;
using Xunit;

namespace GraphGen.Tests.Checkpoints;

public sealed class CheckpointTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Saved(FakeNetwork net, IReadOnlyDictionary<string, string>? metadata = null)
    {
        string path = _dir.File($"{net.Name}-{Guid.NewGuid():N}.safetensors");
        Checkpoint.Save(net, path, metadata);
        return path;
    }

    /// <summary>Loading must fail and leave every value of the target exactly as it was.</summary>
    private static CheckpointException Rejected(FakeNetwork target, string path)
    {
        var before = target.Bits();
        int calls = target.TensorCalls;
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(target, path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Equal(before, target.Bits());
        Assert.Equal(calls, target.TensorCalls);
        return e;
    }

    [Fact]
    public void SaveThenLoad_RestoresEveryValueBitwise()
    {
        FakeNetwork source = FakeNetwork.LeNet().Fill(1);
        string path = Saved(source, new Dictionary<string, string> { ["graphgen.epoch"] = "7", ["graphgen.network"] = "ignored" });

        FakeNetwork target = FakeNetwork.LeNet().Fill(2);
        IReadOnlyDictionary<string, string> metadata = Checkpoint.Load(target, path);

        Assert.Equal(source.Bits(), target.Bits());
        Assert.Equal("LeNet", metadata["graphgen.network"]);
        Assert.Equal("1", metadata["graphgen.format"]);
        Assert.Equal("7", metadata["graphgen.epoch"]);
    }

    [Fact]
    public void SavedFile_IsPlainSafetensorsInCheckpointOrder()
    {
        FakeNetwork net = FakeNetwork.LeNet().Fill(3);
        SafetensorsFile file = Safetensors.Read(Saved(net));
        Assert.Equal(net.Tensors.Count, file.Tensors.Count);
        for (int i = 0; i < net.Tensors.Count; i++)
        {
            Assert.Equal(net.Tensors[i].Name, file.Tensors[i].Name);
            Assert.Equal(net.Tensors[i].Shape, file.Tensors[i].Shape);
        }
    }

    [Fact]
    public void ShapeMismatch_NamesTensorAndBothShapes()
    {
        string path = Saved(FakeNetwork.LeNet(conv2Kernel: 3).Fill(4));
        var e = Rejected(FakeNetwork.LeNet().Fill(5), path);
        Assert.EndsWith("conv2.weight: file has [16,6,3,3], LeNet has [16,6,5,5]", e.Message);
    }

    [Fact]
    public void OtherNetwork_NamesFirstMissingTensorAndTheSavedNetwork()
    {
        var other = new FakeNetwork("MlpNet", ("fc1.weight", [4, 3]), ("fc1.bias", [4]));
        string path = Saved(other.Fill(6));
        var e = Rejected(FakeNetwork.LeNet().Fill(7), path);
        Assert.Contains("tensor 'conv1.weight' of LeNet is missing; the file has fc1.weight, fc1.bias", e.Message);
        Assert.Contains("(the file was saved from MlpNet, not LeNet)", e.Message);
    }

    [Fact]
    public void ExtraTensor_IsNamed()
    {
        var bigger = new FakeNetwork("Net", ("a", [2]), ("b", [3]), ("c", [1]));
        var smaller = new FakeNetwork("Net", ("a", [2]), ("b", [3]));
        var e = Rejected(smaller.Fill(8), Saved(bigger.Fill(9)));
        Assert.EndsWith("the file has tensor 'c', which Net does not have", e.Message);
    }

    [Fact]
    public void MissingTensor_IsNamed()
    {
        var smaller = new FakeNetwork("Net", ("a", [2]));
        var bigger = new FakeNetwork("Net", ("a", [2]), ("b", [3]));
        var e = Rejected(bigger.Fill(10), Saved(smaller.Fill(11)));
        Assert.EndsWith("tensor 'b' of Net is missing; the file has a", e.Message);
    }

    [Fact]
    public void SameTensorsUnderAnotherName_Loads()
    {
        FakeNetwork source = FakeNetwork.LeNet("LeNetV1").Fill(12);
        FakeNetwork target = FakeNetwork.LeNet("LeNetV2").Fill(13);
        IReadOnlyDictionary<string, string> metadata = Checkpoint.Load(target, Saved(source));
        Assert.Equal(source.Bits(), target.Bits());
        Assert.Equal("LeNetV1", metadata["graphgen.network"]);
    }

    [Fact]
    public void ForeignFileWithoutMetadata_Loads()
    {
        string path = _dir.File("torch.safetensors");
        Safetensors.Write(path, [new SafetensorsTensor("b", [2], [3f, 4f]), new SafetensorsTensor("a", [1, 2], [1f, 2f])]);
        var net = new FakeNetwork("Net", ("a", [1, 2]), ("b", [2]));
        Assert.Empty(Checkpoint.Load(net, path));
        Assert.Equal([1f, 2f], net.Tensor("a").ToArray());
        Assert.Equal([3f, 4f], net.Tensor("b").ToArray());
    }

    [Fact]
    public void UnknownFormatVersion_IsRejected()
    {
        string path = _dir.File("future.safetensors");
        Safetensors.Write(path, [new SafetensorsTensor("a", [1], [1f])], new Dictionary<string, string> { ["graphgen.format"] = "2" });
        var e = Rejected(new FakeNetwork("Net", ("a", [1])), path);
        Assert.Contains("graphgen.format is '2'", e.Message);
    }

    [Fact]
    public void DamagedFile_IsRejectedWithoutTouchingTheNetwork()
    {
        string path = Saved(FakeNetwork.LeNet().Fill(14));
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^4]);
        var e = Rejected(FakeNetwork.LeNet().Fill(15), path);
        Assert.Contains("go past the end", e.Message);
    }

    [Fact]
    public void MissingFile_IsRejected()
    {
        Rejected(FakeNetwork.LeNet().Fill(16), _dir.File("nothing.safetensors"));
    }

    [Fact]
    public void FailedSave_KeepsPreviousCheckpoint()
    {
        string path = _dir.File("model.safetensors");
        Checkpoint.Save(FakeNetwork.LeNet().Fill(17), path);
        byte[] before = File.ReadAllBytes(path);

        FakeNetwork failing = FakeNetwork.LeNet().Fill(18);
        failing.FailAfterCalls = 5;
        Assert.Throws<IOException>(() => Checkpoint.Save(failing, path));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], _dir.Files());
    }
}

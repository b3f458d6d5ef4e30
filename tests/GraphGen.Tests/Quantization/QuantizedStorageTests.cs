using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using GraphGen.Checkpoints;
using GraphGen.Quantization;
using GraphGen.Tests.Data;
using GraphGen.Tests.Numerics;
using Xunit;

namespace GraphGen.Tests.Quantization;

/// <summary>Quantized networks through safetensors: int8 and int32 tensors, the graph in the metadata.</summary>
public sealed class QuantizedStorageTests
{
    [Theory]
    [InlineData("LeNet")]
    [InlineData("ResidualNet")]
    [InlineData("InputBatchNorm")]
    [InlineData("Pools")]
    [InlineData("Activations")]
    [InlineData("StridePad")]
    public void Saved_network_loads_and_gives_the_same_logits(string name)
    {
        using var dir = new TempDir();
        using var net = TestNets.Create(name);
        var (calibration, _) = TestNets.Batch(net, 32, seed: 21);
        using var q = Quantizer.Quantize(net, calibration, new Int8Options { Threads = 1 });
        string path = Path.Combine(dir.Path, "q.safetensors");
        q.Save(path);
        using var loaded = QuantizedNetwork.Load(path, new Int8Options { Threads = 2 });
        Assert.Equal(q.Summary().Split('\n').Skip(1), loaded.Summary().Split('\n').Skip(1));
        var (x, _) = TestNets.Batch(net, 9, seed: 22);
        var a = new float[9 * q.Classes];
        var b = new float[9 * q.Classes];
        q.Infer(x, a);
        loaded.Infer(x, b);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Weights_are_stored_as_int8_and_biases_as_int32()
    {
        using var dir = new TempDir();
        using var net = TestNets.Create("LeNet");
        var (calibration, _) = TestNets.Batch(net, 8, seed: 23);
        using var q = Quantizer.Quantize(net, calibration);
        string path = Path.Combine(dir.Path, "q.safetensors");
        q.Save(path);
        var file = Safetensors.Read(path, allowIntegers: true);
        var weight = file.Find("op0.weight")!;
        Assert.Equal(SafetensorsDtype.I8, weight.Dtype);
        Assert.Equal(new[] { 6, 1, 5, 5 }, weight.Shape);
        Assert.Equal(((LinearOp)q.Ops[0]).Weight, weight.Int8Data);
        Assert.Contains(weight.Int8Data!, w => w == 127 || w == -127); // per-channel symmetric: each channel's largest |w| is 127
        Assert.Equal(SafetensorsDtype.I32, file.Find("op0.bias")!.Dtype);
        Assert.Equal(QuantizedNetwork.Format, file.Metadata["format"]);
        // 1 byte per weight: the file is about a quarter of the float checkpoint's size.
        long weights = net.Tensors.Where(t => t.Name.EndsWith(".weight", StringComparison.Ordinal)).Sum(t => (long)t.Length);
        Assert.True(new FileInfo(path).Length < weights * 2, $"{new FileInfo(path).Length} bytes for {weights} weights");
    }

    [Fact]
    public void Float_reader_still_refuses_integer_tensors()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "ints.safetensors");
        Safetensors.Write(path, [SafetensorsTensor.FromInt8("a", [3], [1, -2, 127]), SafetensorsTensor.FromInt32("b", [2], [int.MinValue, 7]), new("c", [1], [0.5f])]);
        var e = Assert.Throws<CheckpointException>(() => Safetensors.Read(path));
        Assert.Contains("dtype I8 is not supported, only F32", e.Message);
        var file = Safetensors.Read(path, allowIntegers: true);
        Assert.Equal(new sbyte[] { 1, -2, 127 }, file.Find("a")!.Int8Data);
        Assert.Equal(new[] { int.MinValue, 7 }, file.Find("b")!.Int32Data);
        Assert.Equal(new[] { 0.5f }, file.Find("c")!.Data);
        // Byte layout: 3 int8 bytes, then 8 little-endian int32 bytes, then the float.
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(3 + 8 + 4, bytes.Length - 8 - BitConverter.ToInt64(bytes, 0));
        Assert.Equal(new byte[] { 1, 0xFE, 127, 0, 0, 0, 0x80, 7, 0, 0, 0 }, bytes[^15..^4]);
    }

    [Fact]
    public void Loading_a_float_checkpoint_or_a_damaged_file_names_the_problem()
    {
        using var dir = new TempDir();
        using var net = TestNets.Create("Mlp");
        string floatPath = Path.Combine(dir.Path, "float.safetensors");
        Checkpoint.Save(net, floatPath);
        var e = Assert.Throws<CheckpointException>(() => QuantizedNetwork.Load(floatPath));
        Assert.Contains("not a quantized network", e.Message);

        var (calibration, _) = TestNets.Batch(net, 8, seed: 24);
        using var q = Quantizer.Quantize(net, calibration);
        string path = Path.Combine(dir.Path, "q.safetensors");
        q.Save(path);
        var file = Safetensors.Read(path, allowIntegers: true);
        var metadata = new Dictionary<string, string>(file.Metadata.ToDictionary()) { ["graphgen.int8.op.1"] = "kind=linear;name=x" };
        string damaged = Path.Combine(dir.Path, "damaged.safetensors");
        Safetensors.Write(damaged, file.Tensors, metadata);
        e = Assert.Throws<CheckpointException>(() => QuantizedNetwork.Load(damaged));
        Assert.Contains("malformed", e.Message);
        Assert.Contains(damaged, e.Message);

        var tensors = file.Tensors.Select(t => t.Name == "op0.weight" ? new SafetensorsTensor(t.Name, t.Shape, new float[t.Int8Data!.Length]) : t).ToList();
        Safetensors.Write(damaged, tensors, file.Metadata);
        e = Assert.Throws<CheckpointException>(() => QuantizedNetwork.Load(damaged));
        Assert.Contains("op0.weight is F32", e.Message);
    }
}

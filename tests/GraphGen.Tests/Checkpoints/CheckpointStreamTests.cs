using System;
using System.Collections.Generic;
using System.IO;
using GraphGen.Checkpoints;
using GraphGen.Tests.Guarantees;
using GraphGen.Tests.Nets;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Checkpoints;

/// <summary>Issue 13: checkpoints to and from streams (a browser page's bytes, an embedded resource), with every
/// check of the file overloads.</summary>
public sealed class CheckpointStreamTests : IDisposable
{
    private readonly ScratchDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly NetworkOptions Options = new() { Seed = 3, Threads = 1, MaxBatch = 16 };

    private static readonly Dictionary<string, string> Epoch = new() { ["graphgen.epoch"] = "4" };

    private static byte[] Saved(INetwork net, IReadOnlyDictionary<string, string>? metadata = null, Optimizer? optimizer = null)
    {
        var stream = new MemoryStream();
        Checkpoint.Save(net, stream, metadata, optimizer);
        return stream.ToArray();
    }

    /// <summary>A stream that can only be read forward, as a network response is.</summary>
    private sealed class ForwardOnly(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 7)); // short reads
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public void SaveToStream_WritesTheBytesOfTheFile()
    {
        using var net = new LeNet(Options);
        string path = _dir.File("lenet.safetensors");
        Checkpoint.Save(net, path, Epoch);
        Assert.Equal(File.ReadAllBytes(path), Saved(net, Epoch));
    }

    [Fact]
    public void LoadFromStream_RestoresEveryTensor_FromSeekableOffsetAndForwardOnlyStreams()
    {
        using var source = new LeNet(new NetworkOptions { Seed = 11, Threads = 1, MaxBatch = 16 });
        byte[] bytes = Saved(source, Epoch);
        var expected = Bits.Snapshot(source);

        using (var target = new LeNet(Options))
        {
            IReadOnlyDictionary<string, string> metadata = Checkpoint.Load(target, new MemoryStream(bytes), "lenet.safetensors");
            Bits.AssertIdentical(expected, Bits.Snapshot(target), "seekable stream");
            Assert.Equal("4", metadata["graphgen.epoch"]);
        }
        using (var target = new LeNet(Options))
        {
            // The checkpoint starts at the stream's position, not at 0: three bytes of something else come first.
            var stream = new MemoryStream();
            stream.Write([1, 2, 3]);
            stream.Write(bytes);
            stream.Position = 3;
            Checkpoint.Load(target, stream, "offset");
            Bits.AssertIdentical(expected, Bits.Snapshot(target), "stream read from its position");
        }
        using (var target = new LeNet(Options))
        {
            Checkpoint.Load(target, new ForwardOnly(bytes), "forward-only");
            Bits.AssertIdentical(expected, Bits.Snapshot(target), "forward-only stream");
        }
    }

    [Fact]
    public void LoadFromStream_WithOptimizer_RestoresItsState()
    {
        using var source = new LeNet(new NetworkOptions { Seed = 5, Threads = 1, MaxBatch = 16 });
        var adam = new AdamW();
        adam.Attach(source);
        var data = TinyData(source);
        for (int i = 0; i < 3; i++) source.TrainStep(data.Pixels, data.Labels, 0.01f);
        byte[] bytes = Saved(source, null, adam);

        using var target = new LeNet(Options);
        var restored = new AdamW();
        restored.Attach(target);
        Checkpoint.Load(target, new MemoryStream(bytes), "adam.safetensors", restored);
        Bits.AssertIdentical(Bits.Snapshot(source), Bits.Snapshot(target), "network");
        foreach (TensorInfo info in adam.State)
            Assert.Equal(adam.StateTensor(info.Name).ToArray(), restored.StateTensor(info.Name).ToArray());
    }

    [Fact]
    public void DamagedOrTruncatedBytes_AreRefusedByName_AndTheNetworkIsUnchanged()
    {
        using var source = new LeNet(new NetworkOptions { Seed = 7, Threads = 1, MaxBatch = 16 });
        byte[] bytes = Saved(source);
        byte[] flipped = (byte[])bytes.Clone();
        flipped[^5] ^= 0x40; // a bit of dense3.bias's data
        byte[] truncated = bytes[..(bytes.Length - 100)];

        using var target = new LeNet(Options);
        var before = Bits.Snapshot(target);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(target, new MemoryStream(flipped), "upload.safetensors"));
        Assert.StartsWith("upload.safetensors: ", e.Message);
        Assert.Contains("does not match graphgen.checksum", e.Message);
        e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(target, new ForwardOnly(truncated), "cut.safetensors"));
        Assert.StartsWith("cut.safetensors: ", e.Message);
        Bits.AssertIdentical(before, Bits.Snapshot(target), "a refused load changed the network");
    }

    [Fact]
    public void OtherNetworkFromStream_IsRefusedUnlessAllowed()
    {
        using var relu = new ReluLeNet(Options);
        byte[] bytes = Saved(relu);
        using var target = new LeNet(Options);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(target, new MemoryStream(bytes), "relu.safetensors"));
        Assert.True(e.IsOtherNetwork);
        Checkpoint.Load(target, new MemoryStream(bytes), "relu.safetensors", allowOtherNetwork: true);
        Bits.AssertIdentical(Bits.Snapshot(relu), Bits.Snapshot(target), "allowed load");
    }

    [Fact]
    public void SaveOfNonFiniteNetworkToStream_WritesNothing_AndUnwritableStreamsAreNamed()
    {
        using var net = new LeNet(Options);
        net.Tensor("conv1.bias")[2] = float.NaN;
        var stream = new MemoryStream();
        var e = Assert.Throws<InvalidOperationException>(() => Checkpoint.Save(net, stream));
        Assert.Contains("tensor 'conv1.bias' holds NaN at index 2", e.Message);
        Assert.Equal(0, stream.Length);

        Assert.Throws<ArgumentException>(() => Checkpoint.Save(net, new MemoryStream(new byte[10], writable: false)));
        Assert.Throws<ArgumentException>(() => Checkpoint.Load(net, new ForwardOnlyWriteOnly(), "x"));
    }

    private sealed class ForwardOnlyWriteOnly : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) { }
    }

    private static (byte[] Pixels, int[] Labels) TinyData(INetwork net)
    {
        var random = new Random(2);
        var pixels = new byte[8 * net.InputSize];
        random.NextBytes(pixels);
        var labels = new int[8];
        for (int i = 0; i < labels.Length; i++) labels[i] = random.Next(10);
        return (pixels, labels);
    }
}

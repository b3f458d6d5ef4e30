using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using GraphGen.Checkpoints;
using GraphGen.Tests.Guarantees;
using GraphGen.Tests.Nets;
using Xunit;

namespace GraphGen.Tests.Checkpoints
{
    /// <summary>LeNet with ReLU instead of sigmoid: every tensor has the shape of LeNet's.</summary>
    [Network(Channels = 1, Height = 28, Width = 28)]
    [Conv2D(6, Kernel = 5)]  [BatchNorm] [ReLU] [MaxPool2D(2, Stride = 2)]
    [Conv2D(16, Kernel = 5)] [BatchNorm] [ReLU] [MaxPool2D(2, Stride = 2)]
    [Dense(120)] [BatchNorm] [ReLU]
    [Dense(84)]  [BatchNorm] [ReLU]
    [Dense(10)]
    public partial class ReluLeNet { }

    /// <summary>Issue 12, item 3: what a checkpoint loader must refuse although every shape fits (non-finite weights,
    /// impossible variances, another network, data that does not match its checksum), and what it must still load.</summary>
    public sealed class CheckpointSafetyTests : IDisposable
    {
        private readonly ScratchDir _dir = new();

        public void Dispose() => _dir.Dispose();

        private static readonly NetworkOptions Options = new() { Seed = 3, Threads = 1, MaxBatch = 16 };

        /// <summary>Saves a fresh LeNet, then rewrites the file with <paramref name="edit"/> applied to its tensors and
        /// metadata (as a tool that edits checkpoints would).</summary>
        private string Edited(Action<List<SafetensorsTensor>, Dictionary<string, string>> edit)
        {
            string path = _dir.File($"{Guid.NewGuid():N}.safetensors");
            using (var net = new LeNet(Options)) Checkpoint.Save(net, path);
            SafetensorsFile file = Safetensors.Read(path);
            var tensors = file.Tensors.Select(t => t with { Data = (float[])t.Data.Clone() }).ToList();
            var metadata = new Dictionary<string, string>(file.Metadata);
            edit(tensors, metadata);
            Safetensors.Write(path, tensors, metadata);
            return path;
        }

        private static SafetensorsTensor Find(List<SafetensorsTensor> tensors, string name) => tensors.Single(t => t.Name == name);

        /// <summary>The load fails with a message naming the file and containing <paramref name="expected"/>, and
        /// leaves the network exactly as it was.</summary>
        private static CheckpointException Refused(INetwork net, string path, string expected, bool allowOtherNetwork = false)
        {
            var before = Bits.Snapshot(net);
            var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(net, path, allowOtherNetwork));
            Assert.StartsWith(path + ": ", e.Message);
            Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"'{e.Message}' does not say '{expected}'");
            Bits.AssertIdentical(before, Bits.Snapshot(net), "a refused load changed the network");
            return e;
        }

        [Theory]
        [InlineData(float.NaN, "NaN")]
        [InlineData(float.PositiveInfinity, "Infinity")]
        [InlineData(float.NegativeInfinity, "-Infinity")]
        public void NonFiniteWeight_IsRefused_WithOrWithoutChecksum(float bad, string shown)
        {
            foreach (bool keepChecksum in new[] { false, true })
            {
                string path = Edited((tensors, meta) =>
                {
                    Find(tensors, "dense2.weight").Data[17] = bad;
                    if (keepChecksum) meta[Checkpoint.ChecksumKey] = Checkpoint.Checksum(tensors);
                    else meta.Remove(Checkpoint.ChecksumKey);
                });
                using var net = new LeNet(Options);
                Refused(net, path, $"tensor 'dense2.weight' holds {shown} at index 17 (1 of {120 * 84} values are not finite)");
            }
        }

        [Theory]
        [InlineData(-1e-3f, "holds the negative variance -0.001 at index 4")]
        [InlineData(float.NaN, "holds NaN at index 4")]
        public void ImpossibleMovingVariance_IsRefused(float bad, string expected)
        {
            string path = Edited((tensors, meta) =>
            {
                Find(tensors, "batchnorm3.moving_var").Data[4] = bad;
                meta[Checkpoint.ChecksumKey] = Checkpoint.Checksum(tensors);
            });
            using var net = new LeNet(Options);
            Refused(net, path, $"tensor 'batchnorm3.moving_var' {expected}");
        }

        [Fact]
        public void NegativeValuesElsewhere_AndZeroVariance_Load()
        {
            string path = Edited((tensors, meta) =>
            {
                Find(tensors, "batchnorm3.moving_mean").Data[4] = -5f;
                Find(tensors, "batchnorm3.beta").Data[4] = -5f;
                Find(tensors, "batchnorm3.moving_var").Data[4] = 0f;
                Find(tensors, "batchnorm3.moving_var").Data[5] = -0f;
                meta[Checkpoint.ChecksumKey] = Checkpoint.Checksum(tensors);
            });
            using var net = new LeNet(Options);
            Checkpoint.Load(net, path);
            Assert.Equal(-5f, net.Tensor("batchnorm3.moving_mean")[4]);
            Assert.Equal(0f, net.Tensor("batchnorm3.moving_var")[4]);
        }

        [Fact]
        public void SaveOfNonFiniteNetwork_IsRefused_AndWritesNothing()
        {
            using var net = new LeNet(Options);
            net.Tensor("conv1.bias")[2] = float.NaN;
            string path = _dir.File("diverged.safetensors");
            var e = Assert.Throws<InvalidOperationException>(() => Checkpoint.Save(net, path));
            Assert.Contains("tensor 'conv1.bias' holds NaN at index 2", e.Message);
            Assert.Empty(System.IO.Directory.GetFileSystemEntries(_dir.Path));
        }

        [Fact]
        public void SwappedEqualSizeTensors_FailTheChecksum()
        {
            string path = Edited((tensors, _) =>
            {
                SafetensorsTensor gamma = Find(tensors, "batchnorm1.gamma"), beta = Find(tensors, "batchnorm1.beta");
                tensors[tensors.IndexOf(gamma)] = gamma with { Data = beta.Data };
                tensors[tensors.IndexOf(beta)] = beta with { Data = gamma.Data };
            });
            using var net = new LeNet(Options);
            Refused(net, path, "the tensor data does not match graphgen.checksum");
        }

        [Fact]
        public void OneFlippedBit_FailsTheChecksum()
        {
            string path = Edited((tensors, _) =>
            {
                float[] v = Find(tensors, "dense3.bias").Data;
                v[9] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(v[9]) ^ 1);
            });
            using var net = new LeNet(Options);
            Refused(net, path, "the tensor data does not match graphgen.checksum");
        }

        [Theory]
        [InlineData("md5:abc")]
        [InlineData("")]
        public void MalformedChecksum_IsRefused(string checksum)
        {
            string path = Edited((_, meta) => meta[Checkpoint.ChecksumKey] = checksum);
            using var net = new LeNet(Options);
            Refused(net, path, $"graphgen.checksum is '{checksum}', not 'sha256:' and 64 hex digits");
        }

        [Fact]
        public void OldCheckpointWithoutChecksumOrArchitecture_StillLoads()
        {
            string path = Edited((_, meta) =>
            {
                meta.Remove(Checkpoint.ChecksumKey);
                meta.Remove(Checkpoint.ArchitectureKey);
            });
            using var net = new LeNet(new NetworkOptions { Seed = 9, Threads = 1, MaxBatch = 16 });
            Checkpoint.Load(net, path);
            using var saved = new LeNet(Options);
            Bits.AssertIdentical(Bits.Snapshot(saved), Bits.Snapshot(net), "old-style checkpoint");
        }

        /// <summary>The checksum recomputed here from its definition, independently of the implementation.</summary>
        [Fact]
        public void Checksum_IsSha256OfNamesShapesAndData()
        {
            var tensors = new[] { new SafetensorsTensor("a", [2], [1f, -2.5f]), new SafetensorsTensor("bc", [1, 1], [3f]) };
            var bytes = new List<byte>();
            void Int64(long v) { var b = new byte[8]; BinaryPrimitives.WriteInt64LittleEndian(b, v); bytes.AddRange(b); }
            void Float(float v) { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, v); bytes.AddRange(b); }
            bytes.AddRange(Encoding.UTF8.GetBytes("a")); bytes.Add(0); Int64(2); Float(1f); Float(-2.5f);
            bytes.AddRange(Encoding.UTF8.GetBytes("bc")); bytes.Add(0); Int64(1); Int64(1); Float(3f);
            string expected = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes.ToArray()));
            Assert.Equal(expected, Checkpoint.Checksum(tensors));

            string path = _dir.File("tiny.safetensors");
            var net = new FakeNetwork("Tiny", ("a", [2]), ("bc", [1, 1]));
            net.Tensor("a")[0] = 1f; net.Tensor("a")[1] = -2.5f; net.Tensor("bc")[0] = 3f;
            Checkpoint.Save(net, path);
            Assert.Equal(expected, Safetensors.Read(path).Metadata[Checkpoint.ChecksumKey]);
        }

        [Fact]
        public void ReluLeNetIntoSigmoidLeNet_IsRefused_UnlessAllowed()
        {
            string path = _dir.File("relu.safetensors");
            using (var relu = new ReluLeNet(Options)) Checkpoint.Save(relu, path);
            using var net = new LeNet(new NetworkOptions { Seed = 9, Threads = 1, MaxBatch = 16 });
            var e = Refused(net, path, "the file holds ReluLeNet, whose layers differ from LeNet's at layer 3 (sigmoid1): ReLU in the file, Sigmoid in LeNet");
            Assert.True(e.IsOtherNetwork);
            Assert.Contains("allowOtherNetwork", e.Message);

            Checkpoint.Load(net, path, allowOtherNetwork: true);
            using var reference = new ReluLeNet(Options);
            foreach (TensorInfo t in net.Tensors)
                Bits.AssertIdentical(reference.Tensor(t.Name).ToArray(), net.Tensor(t.Name).ToArray(), t.Name);
        }

        [Fact]
        public void SameClassNameButOtherLayers_IsRefused()
        {
            string path = _dir.File("other-lenet.safetensors");
            using (var other = new Other.LeNet(Options)) Checkpoint.Save(other, path);
            using var net = new LeNet(Options);
            var e = Refused(net, path, "the file holds another LeNet, whose layers differ from LeNet's at layer 2 (batchnorm1): BatchNorm(eps 0.001, momentum 0.9) in the file, BatchNorm(eps 1E-05, momentum 0.9) in LeNet");
            Assert.True(e.IsOtherNetwork);
        }

        [Fact]
        public void OldCheckpointOfAnotherNetwork_IsRefusedByName_UnlessAllowed()
        {
            string path = _dir.File("relu-old.safetensors");
            using (var relu = new ReluLeNet(Options)) Checkpoint.Save(relu, path);
            SafetensorsFile file = Safetensors.Read(path);
            var meta = new Dictionary<string, string>(file.Metadata);
            meta.Remove(Checkpoint.ArchitectureKey);
            Safetensors.Write(path, file.Tensors, meta);

            using var net = new LeNet(Options);
            Assert.True(Refused(net, path, "the file was saved from ReluLeNet, not LeNet").IsOtherNetwork);
            Checkpoint.Load(net, path, allowOtherNetwork: true);
        }

        [Fact]
        public void AllowOtherNetwork_WaivesNothingElse()
        {
            string path = _dir.File("relu-nan.safetensors");
            using (var relu = new ReluLeNet(Options)) Checkpoint.Save(relu, path);
            SafetensorsFile file = Safetensors.Read(path);
            file.Tensors.Single(t => t.Name == "dense1.bias").Data[0] = float.NaN;
            Safetensors.Write(path, file.Tensors, file.Metadata);
            using var net = new LeNet(Options);
            Assert.False(Refused(net, path, "does not match graphgen.checksum", allowOtherNetwork: true).IsOtherNetwork);
        }

        [Fact]
        public void Architecture_DescribesEveryLayerAndItsSettings()
        {
            using var net = new LeNet(Options);
            Assert.Equal(
                "[1,28,28]; Conv2D(outputs 6, kernel 5, stride 1); BatchNorm(eps 1E-05, momentum 0.9); Sigmoid; MaxPool2D(kernel 2, stride 2); " +
                "Conv2D(outputs 16, kernel 5, stride 1); BatchNorm(eps 1E-05, momentum 0.9); Sigmoid; MaxPool2D(kernel 2, stride 2); " +
                "Dense(outputs 120); BatchNorm(eps 1E-05, momentum 0.9); Sigmoid; Dense(outputs 84); BatchNorm(eps 1E-05, momentum 0.9); Sigmoid; Dense(outputs 10)",
                Checkpoint.Architecture(net));
        }
    }
}

namespace GraphGen.Tests.Checkpoints.Other
{
    /// <summary>Named LeNet, with the same tensors as LeNet, but another batch-norm epsilon.</summary>
    [Network(Channels = 1, Height = 28, Width = 28)]
    [Conv2D(6, Kernel = 5)]  [BatchNorm(Epsilon = 1e-3)] [Sigmoid] [MaxPool2D(2, Stride = 2)]
    [Conv2D(16, Kernel = 5)] [BatchNorm] [Sigmoid] [MaxPool2D(2, Stride = 2)]
    [Dense(120)] [BatchNorm] [Sigmoid]
    [Dense(84)]  [BatchNorm] [Sigmoid]
    [Dense(10)]
    public partial class LeNet { }
}

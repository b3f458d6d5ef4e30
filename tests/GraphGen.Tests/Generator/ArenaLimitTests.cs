using System;
using GraphGen.Execution;
using GraphGen.Generator.Parsing;
using Xunit;

namespace GraphGen.Tests.Nets
{
#pragma warning disable GG0032 // the point of these networks: their arena does not fit at the default MaxBatch
    /// <summary>The network of issue 12 item 15: 9,135,073 floats of arena per image (see the
    /// ArenaTooLarge case in DiagnosticsTests for the sum).</summary>
    [Network(Channels = 3, Height = 224, Width = 224)] [Conv2D(64, Kernel = 3, Padding = 1)] [BatchNorm] [ReLU] [MaxPool2D(2)] [Dense(10)]
    public partial class Big { }

    /// <summary>One chunk of 16 images needs 2,415,919,232 floats (ArenaTooLargeForOneChunk).</summary>
    [Network(Channels = 1, Height = 4096, Width = 4096)] [Conv2D(1, Kernel = 1)] [ReLU] [Conv2D(1, Kernel = 1)] [ReLU] [Conv2D(1, Kernel = 1)] [ReLU] [Dense(2)]
    public partial class Huge { }
#pragma warning restore GG0032
}

namespace GraphGen.Tests.Generator
{
    using GraphGen.Tests.Nets;

    /// <summary>An arena larger than one .NET array: the constructor refuses the options before it
    /// allocates anything and names the largest MaxBatch that fits (issue 12 item 15).</summary>
    public sealed class ArenaLimitTests
    {
        private static string Refused(Func<IDisposable> create)
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => { using var net = create(); });
            Assert.Equal("options", e.ParamName);
            return e.Message.Split(" (Parameter")[0];
        }

        /// <summary>Per chunk (hand sums in DiagnosticsTests): Vector512 146,162,960 floats, so 16
        /// chunks = 2,338,607,360 and 14 chunks fit (224 images); Vector256 73,082,384, 32 chunks =
        /// 2,338,636,288 and 29 fit (232).</summary>
        [Theory]
        [InlineData(SimdPath.Vector512, 256, "2,338,607,360", 224)]
        [InlineData(SimdPath.Vector256, 256, "2,338,636,288", 232)]
        [InlineData(SimdPath.Vector512, 225, "2,192,444,400", 224)] // 15 chunks: one image over
        [InlineData(SimdPath.Vector256, 233, "2,192,471,520", 232)] // 30 chunks
        public void The_constructor_names_the_largest_MaxBatch_that_fits(SimdPath simd, int maxBatch, string floats, int largest)
        {
            string message = Refused(() => new Big(new NetworkOptions { MaxBatch = maxBatch, Simd = simd }));
            Assert.Equal($"Big with MaxBatch = {maxBatch} needs an arena of {floats} floats on the {simd} path, more than one .NET array holds (2,147,483,559); the largest MaxBatch that fits is {largest}", message);
        }

        [Fact]
        public void A_chunk_that_does_not_fit_at_all_is_named()
        {
            string message = Refused(() => new Huge(new NetworkOptions { MaxBatch = 1, Simd = SimdPath.Vector512 }));
            Assert.Equal("Huge with MaxBatch = 1 needs an arena of 2,415,919,232 floats on the Vector512 path, more than one .NET array holds (2,147,483,559); even one chunk of 16 samples needs 2,415,919,232 floats; choose a narrower NetworkOptions.Simd or make the layers smaller", message);
        }

        [Fact]
        public void The_generator_uses_the_runtimes_limits()
        {
            Assert.Equal(ArenaCheck.MaxFloats, Arena.MaxLength);
            Assert.Equal(ArenaCheck.DefaultMaxBatch, new NetworkOptions().MaxBatch);
            Assert.Throws<ArgumentOutOfRangeException>(() => new Mlp(new NetworkOptions { MaxBatch = ArenaCheck.MaxBatchLimit + 1 }));
        }
    }
}

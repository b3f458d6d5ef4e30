using System.Linq;
using GraphGen.Tests.Nets;
using Xunit;

namespace GraphGen.Tests.Runtime;

public class SummaryTests
{
    [Fact]
    public void A_graph_summary_says_what_each_layer_reads_and_the_arena_size()
    {
        using var net = new ResidualNet(new NetworkOptions { MaxBatch = 32, Simd = SimdPath.Vector256, Threads = 1 });
        string[] lines = net.Summary().Split('\n');
        Assert.Equal("ResidualNet: input (N, 2, 8, 8), N = images per batch (at most MaxBatch = 32)", lines[0]);
        Assert.Contains("reads", lines[1]);
        // The identity block's Add reads the main path's batch norm and the block input.
        string add = Assert.Single(lines, l => l.StartsWith("add1 ", System.StringComparison.Ordinal));
        Assert.Contains("batchnorm3 + relu1", add);
        Assert.Contains("(N, 4, 8, 8)", add);
        Assert.StartsWith("arena (activations and gradients): ", lines.Last(l => l.Length > 0));
        Assert.Contains("for MaxBatch 32 on the Vector256 path", lines.Last(l => l.Length > 0));
    }

    [Fact]
    public void A_chain_summary_has_no_reads_column()
    {
        using var net = new LeNet(new NetworkOptions { MaxBatch = 16 });
        string header = net.Summary().Split('\n')[1];
        Assert.DoesNotContain("reads", header);
        Assert.StartsWith("layer", header);
    }
}

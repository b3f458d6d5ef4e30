using GraphGen.Execution;
using Xunit;

namespace GraphGen.Tests.Browser;

/// <summary>Where threads cannot be started (WebAssembly: the browser, WASI) a network runs on one thread,
/// whatever NetworkOptions ask; before, Threads = 4 with Oversubscribe threw PlatformNotSupportedException from
/// Thread.Start in the browser (held end to end by <see cref="WebPageTests"/>, whose page creates such a network).</summary>
public class ThreadCountTests
{
    [Theory]
    [InlineData(4, true, 1)]
    [InlineData(4, false, 1)]
    [InlineData(1, false, 1)]
    [InlineData(1024, true, 16)]
    public void WithoutThreadsANetworkRunsOnOne(int threads, bool oversubscribe, int processors)
    {
        var options = new NetworkOptions { Threads = threads, Oversubscribe = oversubscribe };
        Assert.Equal(1, NetworkCore.ThreadCount(options, processors, canStartThreads: false));
    }

    [Theory]
    [InlineData(4, true, 1, 4)]   // oversubscribed: as asked
    [InlineData(4, false, 1, 1)]  // at most the processors
    [InlineData(4, false, 16, 4)]
    [InlineData(16, false, 4, 4)]
    public void WithThreadsTheOptionsDecide(int threads, bool oversubscribe, int processors, int expected)
    {
        var options = new NetworkOptions { Threads = threads, Oversubscribe = oversubscribe };
        Assert.Equal(expected, NetworkCore.ThreadCount(options, processors, canStartThreads: true));
    }

    [Fact]
    public void ThisMachineStartsThreads()
    {
        Assert.True(NetworkCore.CanStartThreads); // the tests run natively: only WebAssembly is limited
        using var net = new Nets.Mlp(new NetworkOptions { Threads = 3, Oversubscribe = true });
        Assert.Equal(3, net.Threads);
    }
}

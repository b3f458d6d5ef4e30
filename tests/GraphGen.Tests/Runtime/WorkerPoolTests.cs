using System;
using System.Threading;
using GraphGen.Execution;
using Xunit;

namespace GraphGen.Tests.Runtime;

public class WorkerPoolTests
{
    [Theory]
    [InlineData(1)] [InlineData(2)] [InlineData(4)]
    public void RunsEveryItemExactlyOnce(int threads)
    {
        using var pool = new WorkerPool(threads);
        for (int round = 0; round < 200; round++)
        {
            int count = round % 37 + 1;
            var hits = new int[count];
            pool.Run(count, (item, worker) =>
            {
                Assert.InRange(worker, 0, threads - 1);
                Interlocked.Increment(ref hits[item]);
            });
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void RethrowsTheFirstExceptionAfterThePhaseDrains()
    {
        using var pool = new WorkerPool(2);
        int ran = 0;
        var e = Assert.Throws<InvalidOperationException>(() => pool.Run(50, (item, _) =>
        {
            Interlocked.Increment(ref ran);
            if (item == 7) throw new InvalidOperationException("item 7");
        }));
        Assert.Equal("item 7", e.Message);
        Assert.Equal(50, ran); // the other items still ran: no half-finished phase
        pool.Run(3, (_, _) => { }); // and the pool still works
    }

    [Fact]
    public void RejectsUseAfterDispose()
    {
        var pool = new WorkerPool(2);
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Run(2, (_, _) => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(0));
    }
}

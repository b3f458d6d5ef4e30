using GraphGen.Execution;
using Xunit;

namespace GraphGen.Tests.Runtime;

/// <summary>Issue 12, item 6: the pool's fallback on a busy machine, with made-up timings. A window of phases in
/// which waiting for the workers cost more than they did sends the caller alone, for longer after each further
/// losing window (so probing stops costing a share of every second on a machine that stays busy), and one
/// window in which the workers helped restores the first length.</summary>
public class ContentionPolicyTests
{
    /// <summary>One window of phases of 4 items: the caller ran 2 in 100 ticks, so the workers' 2 items were worth
    /// 100 ticks, and the caller waited <paramref name="waiting"/> ticks per phase for them.</summary>
    private static void Window(ContentionPolicy policy, long waiting)
    {
        for (int i = 0; i < ContentionPolicy.Window; i++)
        {
            Assert.False(policy.TakeAlonePhase(), "a parallel phase was expected");
            policy.Weigh(count: 4, mine: 2, working: 100, waiting: waiting);
        }
    }

    /// <summary>Phases the caller now runs alone before trying the workers again.</summary>
    private static int AlonePhases(ContentionPolicy policy)
    {
        int n = 0;
        while (policy.TakeAlonePhase()) n++;
        return n;
    }

    [Fact]
    public void WorkersThatHelpAreKept()
    {
        var policy = new ContentionPolicy();
        for (int w = 0; w < 5; w++) Window(policy, waiting: 30); // gain 100 − 30 per phase
        Assert.Equal(0, AlonePhases(policy));
    }

    [Fact]
    public void ClearlyLosingWindowsDoubleTheRunAloneUpToTheCap_AndAGainResetsIt()
    {
        // Waiting 300 ticks for items worth 100: a loss of 200 per phase, more than half of the caller's own 100.
        var policy = new ContentionPolicy();
        int[] expected = [224, 448, 896, 1792, 3584, 7168, 7168];
        foreach (int alone in expected)
        {
            Window(policy, waiting: 300);
            Assert.Equal(alone, AlonePhases(policy));
        }
        Window(policy, waiting: 30);
        Assert.Equal(0, AlonePhases(policy));
        Window(policy, waiting: 300);
        Assert.Equal(224, AlonePhases(policy));
    }

    [Fact]
    public void SmallLossesNeverLengthenTheRunAlone()
    {
        // A loss of 30 per phase (late wake-ups on an idle machine) is below half of the caller's 100: every
        // losing window sends the caller alone for the first length only, and a clear loss after them starts
        // the doubling from there.
        var policy = new ContentionPolicy();
        for (int w = 0; w < 5; w++)
        {
            Window(policy, waiting: 130);
            Assert.Equal(224, AlonePhases(policy));
        }
        Window(policy, waiting: 300);
        Assert.Equal(224, AlonePhases(policy));
        Window(policy, waiting: 300);
        Assert.Equal(448, AlonePhases(policy));
        Window(policy, waiting: 130);
        Assert.Equal(896, AlonePhases(policy)); // the length earned before; the small loss resets what comes next
        Window(policy, waiting: 300);
        Assert.Equal(224, AlonePhases(policy));
    }

    [Fact]
    public void AWindowIsWeighedAsAWhole()
    {
        // 31 phases gain 70 ticks each (2,170 in all), one loses 2,200: the window loses 30 ticks net.
        var policy = new ContentionPolicy();
        for (int i = 0; i < ContentionPolicy.Window - 1; i++) policy.Weigh(4, 2, 100, 30);
        Assert.False(policy.TakeAlonePhase());
        policy.Weigh(4, 2, 100, 2_300);
        Assert.Equal(224, AlonePhases(policy));
        // The same with a net gain of 70 ticks keeps the workers.
        for (int i = 0; i < ContentionPolicy.Window - 1; i++) policy.Weigh(4, 2, 100, 30);
        policy.Weigh(4, 2, 100, 2_200);
        Assert.Equal(0, AlonePhases(policy));
    }
}

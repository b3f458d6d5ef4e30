using GraphGen.Tests.Nets;
using Xunit;

namespace GraphGen.Tests.Numerics;

public class SamePaddingTests
{
    [Fact]
    public void Same_padding_gives_the_ceiling_of_input_over_stride()
    {
        using var net = new SamePadding(new NetworkOptions { MaxBatch = 8 });
        Assert.Equal(new[] { 3, 4, 4 }, net.Layers[0].OutputShape);
        Assert.Equal(1, net.Layers[0].Padding);
        Assert.Equal(new[] { 2, 4, 4 }, net.Layers[2].OutputShape);
        Assert.Equal(2, net.Layers[2].Padding);
    }
}

using FlowLedger.Api.Audit;

namespace FlowLedger.Api.Tests;

/// <summary>The audit sealer's record of what is sealed: a cursor and the gaps below it.</summary>
public sealed class SealedSequencesTests
{
    [Fact]
    public void Sequences_sealed_past_a_gap_leave_it_open_until_it_is_sealed()
    {
        var sealedSequences = new SealedSequences(10);
        foreach (var sequence in new long[] { 11, 14, 15, 20 })
        {
            sealedSequences.Seal(sequence);
        }
        Assert.Equal(20, sealedSequences.Cursor);
        Assert.Equal([(12L, 13L), (16L, 19L)], sealedSequences.Gaps);

        sealedSequences.Seal(17);
        sealedSequences.Seal(12);
        sealedSequences.Seal(17);
        Assert.Equal([(13L, 13L), (16L, 16L), (18L, 19L)], sealedSequences.Gaps);
    }

    [Fact]
    public void A_copy_changes_apart_from_its_original()
    {
        var original = new SealedSequences(0);
        original.Seal(3);
        var copy = original.Copy();
        copy.Seal(1);
        copy.Seal(5);

        Assert.Equal([(1L, 2L)], original.Gaps);
        Assert.Equal(3, original.Cursor);
        Assert.Equal([(2L, 2L), (4L, 4L)], copy.Gaps);
    }

    [Fact]
    public void Gaps_that_fall_out_of_the_look_back_are_given_up()
    {
        var sealedSequences = new SealedSequences(0);
        sealedSequences.Seal(5);
        sealedSequences.Seal(10);
        sealedSequences.ForgetUpTo(7);

        Assert.Equal([(8L, 9L)], sealedSequences.Gaps);
        sealedSequences.ForgetUpTo(10);
        Assert.Empty(sealedSequences.Gaps);
    }
}

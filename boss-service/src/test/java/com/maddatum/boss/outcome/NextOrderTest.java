package com.maddatum.boss.outcome;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import com.maddatum.boss.order.Claimer;
import com.maddatum.boss.order.Claims;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderService;
import java.util.Optional;
import java.util.Set;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;

/** A callback's claim that no answer will carry goes back to the queue: with its attempt, or spent. */
class NextOrderTest {

    private final Claims claims = mock(Claims.class);
    private final OrderService orders = mock(OrderService.class);
    private final NextClaims links = mock(NextClaims.class);
    private final NextOrder next = new NextOrder(claims, orders, mock(OrderQueries.class), links);
    private final ObjectId reported = new ObjectId();
    private final ObjectId claimedId = new ObjectId();
    private final Order claimed = mock(Order.class);

    /** A first callback of the reported order, asking for its node's next order. */
    private Object after() {
        Claimer claimer = new Claimer("n1", Set.of(), true, null);
        when(claims.claimer("n1", true, null)).thenReturn(claimer);
        when(claims.claim(claimer)).thenReturn(Optional.of(claimed));
        when(claimed.id()).thenReturn(claimedId);
        when(claimed.attempt()).thenReturn(2);
        when(claimed.assignedTo()).thenReturn("n1");
        OutcomeReport report = OutcomeReport.parse(new Document("status", 200).append("orderId", reported.toHexString())
                .append("attempt", 1).append("node", "n1"), 1000);
        return next.after(new OutcomeService.Recorded(reported.toHexString(), "done", null, false, null), report, true,
                null);
    }

    @Test
    void aClaimWhoseLinkFailedGoesBackWithItsAttemptSpentSinceTheLinkMayHaveLanded() {
        when(links.link(anyString(), any(ObjectId.class), anyInt())).thenThrow(new IllegalStateException("commit failed"));
        assertThat(after()).isNull();
        verify(orders).releaseUnheard(eq(claimedId), eq("n1"), eq(2), anyString());
        verify(orders, never()).release(any(), anyString());
    }

    @Test
    void aClaimARepeatSealedFirstGoesBackWithItsAttempt() {
        when(links.link(anyString(), any(ObjectId.class), anyInt())).thenReturn(false); // no link of it was stored
        assertThat(after()).isNull();
        verify(orders).release(eq(claimed), anyString());
        verify(orders, never()).releaseUnheard(any(), anyString(), anyInt(), anyString());
    }
}

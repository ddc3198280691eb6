"""Price, volume and fundamentals series of one simulated stock, as compact numpy arrays.

Prices are stored in cents (int32) so that every served price has exactly two
decimals. Step functions (adjustment factor, share counts, yearly fundamentals) are
stored once per epoch, a span of sessions in which none of them changes, and each row
points to its epoch. Derived columns such as change, amount, pe or market value are
computed per query from these arrays (see ``market.py``).

Each random draw uses a fixed-size array or one row per trading row of a generator
seeded for this stock and purpose, so the rows up to any day never depend on how far
the calendar reaches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tslake.server.universe import Listing, stock_rng

STREAM_EX_DATES = 4
STREAM_REPORTS = 5
STREAM_DAILY = 6
STREAM_PARAMETERS = 7
# Streams of the financial tables (see reports.py and dividends.py).
STREAM_STATEMENTS = 8
STREAM_DISCLOSURES = 9
STREAM_DIVIDENDS = 10

# Sentinel in ``volume_ratio_centi`` for "no previous volume" (the listing day).
NO_VOLUME_RATIO = np.iinfo(np.uint16).max

# Maximum number of ex-dates and annual reports per stock. Ex-dates are at least 200
# sessions apart and reports 244, so 60 of each reach past any calendar up to 2060.
MAX_EVENTS = 60

# Row indexes of SymbolSeries.epoch_values.
FACTOR = 0
TOTAL_SHARE = 1
FLOAT_SHARE = 2
FREE_SHARE = 3
EARNINGS = 4
EARNINGS_TTM = 5
BOOK_VALUE = 6
SALES = 7
SALES_TTM = 8
DIVIDENDS = 9
DIVIDENDS_TTM = 10
EPOCH_FIELDS = 11

# Daily mean reversion of the log price around its slow trend.
REVERSION = 0.998


@dataclass(frozen=True, eq=False)
class SymbolSeries:
    """The rows of one stock, oldest first.

    ``days`` are session indexes (int32). Prices are int32 cents, ``vol`` is in lots
    (float64, two decimals), ``volume_ratio_centi`` is the volume ratio times 100.
    ``epoch_values`` has shape (EPOCH_FIELDS, epochs): the adjustment factor (three
    decimals), shares in 10k (four decimals), and yearly earnings, book value, sales
    and dividends in 10k CNY. ``epoch`` is each row's column in ``epoch_values``.
    """

    days: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    pre_close: np.ndarray
    vol: np.ndarray
    volume_ratio_centi: np.ndarray
    epoch: np.ndarray
    epoch_values: np.ndarray

    @property
    def nbytes(self) -> int:
        arrays = (
            self.days,
            self.open,
            self.high,
            self.low,
            self.close,
            self.pre_close,
            self.vol,
            self.volume_ratio_centi,
            self.epoch,
            self.epoch_values,
        )
        return sum(array.nbytes for array in arrays)


@dataclass(frozen=True)
class _Parameters:
    """Constants of one stock drawn once: price level, volatility, size and valuation."""

    initial_price: float
    volatility: float
    mean_turnover: float
    initial_market_value: float
    initial_pe: float
    initial_pb: float
    initial_ps: float
    payout: float
    free_fraction: float
    initial_float_fraction: float
    listing_jump: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> _Parameters:
        u = rng.random(12)
        return cls(
            initial_price=float(np.exp(np.log(4.0) + u[0] * np.log(15.0))),
            volatility=0.015 + 0.02 * u[1],
            mean_turnover=float(np.exp(np.log(0.5) + u[2] * np.log(10.0))),
            initial_market_value=float(np.exp(np.log(1e5) + u[3] * np.log(50.0))),
            initial_pe=10.0 + 40.0 * u[4],
            initial_pb=1.0 + 5.0 * u[5],
            initial_ps=0.5 + 6.0 * u[6],
            payout=0.0 if u[8] < 0.3 else 0.1 + 0.4 * u[7],
            free_fraction=0.4 + 0.5 * u[9],
            initial_float_fraction=0.25 + 0.15 * u[10],
            listing_jump=1.1 + 0.34 * u[11],
        )


def trading_days(listing: Listing, session_count: int) -> np.ndarray:
    """Return the session indexes on which ``listing`` has rows."""
    end = session_count if listing.end_index is None else min(listing.end_index, session_count)
    days = np.arange(listing.list_index, end, dtype=np.int32)
    keep = np.ones(len(days), dtype=bool)
    for start, stop in listing.suspensions:
        keep &= (days < start) | (days >= stop)
    return days[keep]


def generate_series(listing: Listing, seed: int, session_count: int) -> SymbolSeries:
    """Generate every row of ``listing`` on a calendar of ``session_count`` sessions."""
    days = trading_days(listing, session_count)
    rows = len(days)
    parameters = _Parameters.draw(stock_rng(seed, listing.index, STREAM_PARAMETERS))
    events = draw_events(seed, listing)

    epoch_starts = np.unique(
        np.concatenate(
            ([listing.list_index], events.ex_dates, events.report_dates, events.lockup_ends)
        )
    )
    epoch_values = np.full((EPOCH_FIELDS, len(epoch_starts)), np.nan)
    _fill_share_epochs(epoch_values, epoch_starts, events, parameters)
    epoch = (np.searchsorted(epoch_starts, days, side="right") - 1).astype(np.uint16)
    factor = epoch_values[FACTOR][epoch]

    noise = stock_rng(seed, listing.index, STREAM_DAILY).standard_normal((rows, 6))
    noise = np.clip(noise, -3.0, 3.0)

    # The log price reverts to a slow random walk. Between ex-dates it also rises by
    # the next ex-date's factor step, which the price then loses on the ex-date, so
    # the adjusted price has no jump and the unadjusted price stays in a plausible range.
    steps = np.arange(rows, dtype=np.float64)
    decay = REVERSION**steps
    reverting = decay * np.cumsum(parameters.volatility * noise[:, 0] / decay)
    trend = np.cumsum(0.004 * noise[:, 1])
    ramp_sessions = np.concatenate(([listing.list_index], events.ex_dates)).astype(np.float64)
    ramp_levels = np.log(events.cumulative_factor)
    dividend_ramp = np.interp(days, ramp_sessions, ramp_levels)
    log_price = reverting + trend + dividend_ramp - np.log(factor)
    close = np.maximum(10, np.rint(parameters.initial_price * np.exp(log_price) * 100.0))

    pre_close = np.empty(rows)
    pre_close[0] = np.rint(close[0] / parameters.listing_jump)
    previous_close = close[:-1] / 100.0
    pre_close[1:] = np.rint(np.round(previous_close * factor[:-1] / factor[1:], 2) * 100.0)
    pre_close = np.maximum(pre_close, 1)

    open_base = np.concatenate(([close[0]], pre_close[1:]))
    open_noise = np.exp(0.4 * parameters.volatility * noise[:, 2])
    open_price = np.maximum(1, np.rint(open_base * open_noise))
    top = np.maximum(open_price, close)
    bottom = np.minimum(open_price, close)
    high_noise = np.exp(0.5 * parameters.volatility * np.abs(noise[:, 3]))
    low_noise = np.exp(-0.5 * parameters.volatility * np.abs(noise[:, 4]))
    high = np.maximum(top, np.rint(top * high_noise))
    low = np.maximum(1, np.minimum(bottom, np.rint(bottom * low_noise)))

    # Turnover in percent; the listing day trades heavily. vol (lots) is turnover times
    # the float share (10k shares), because turnover% = vol * 100 / (float_share * 1e4) * 100.
    turnover = parameters.mean_turnover * np.exp(0.5 * noise[:, 5] - 0.125)
    turnover[0] = 30.0 + 40.0 * (noise[0, 5] + 3.0) / 6.0
    vol = np.round(turnover * epoch_values[FLOAT_SHARE][epoch], 2)

    _fill_fundamental_epochs(epoch_values, epoch_starts, events, parameters, days, close)
    return SymbolSeries(
        days=days,
        open=open_price.astype(np.int32),
        high=high.astype(np.int32),
        low=low.astype(np.int32),
        close=close.astype(np.int32),
        pre_close=pre_close.astype(np.int32),
        vol=vol,
        volume_ratio_centi=_volume_ratio_centi(vol),
        epoch=epoch,
        epoch_values=epoch_values,
    )


def _volume_ratio_centi(vol: np.ndarray) -> np.ndarray:
    """Return 100 times each day's volume over the mean of the previous five (at most)."""
    rows = len(vol)
    cumulative = np.concatenate(([0.0], np.cumsum(vol)))
    positions = np.arange(rows)
    window_start = np.maximum(0, positions - 5)
    previous_count = positions - window_start
    previous_sum = cumulative[positions] - cumulative[window_start]
    valid = (previous_count > 0) & (previous_sum > 0)
    ratio = vol[valid] / (previous_sum[valid] / previous_count[valid])
    centi = np.full(rows, NO_VOLUME_RATIO, dtype=np.uint16)
    centi[valid] = np.clip(np.rint(ratio * 100.0), 0, NO_VOLUME_RATIO - 1)
    return centi


@dataclass(frozen=True)
class Events:
    """Dated events of one stock, as session indexes, some beyond the calendar's end.

    ``dividend_yield`` (cash dividend over the close before the ex-date) and ``bonus``
    (bonus shares per share) have one entry per ex-date. ``cumulative_factor`` and
    ``cumulative_bonus`` have one more entry than ``ex_dates``: entry k is the product
    of the first k steps.
    """

    ex_dates: np.ndarray
    dividend_yield: np.ndarray
    bonus: np.ndarray
    cumulative_factor: np.ndarray
    cumulative_bonus: np.ndarray
    report_dates: np.ndarray
    report_noise: np.ndarray
    lockup_ends: np.ndarray


def draw_events(seed: int, listing: Listing) -> Events:
    """Draw ex-dates with their factor steps, annual report dates and lock-up ends."""
    start = listing.list_index
    ex_draws = stock_rng(seed, listing.index, STREAM_EX_DATES).random((MAX_EVENTS, 4))
    ex_dates = start + np.cumsum(200 + (ex_draws[:, 0] * 100).astype(np.int64))
    dividend_yield = 0.002 + 0.035 * ex_draws[:, 1]
    bonus_choices = np.array([0.1, 0.2, 0.3, 0.5])
    bonus_choice = bonus_choices[(ex_draws[:, 3] * 4).astype(np.int64)]
    bonus = np.where(ex_draws[:, 2] < 0.08, bonus_choice, 0.0)
    # The factor rises by the ratio of the close before to the ex-rights price.
    ratios = (1.0 + bonus) / (1.0 - dividend_yield)

    report_noise = stock_rng(seed, listing.index, STREAM_REPORTS).standard_normal((MAX_EVENTS, 4))
    delay = np.abs(report_noise[:, 0] * 10).astype(np.int64)
    report_dates = start + 60 + 244 * np.arange(MAX_EVENTS) + delay
    return Events(
        ex_dates=ex_dates,
        dividend_yield=dividend_yield,
        bonus=bonus,
        cumulative_factor=np.concatenate(([1.0], np.cumprod(ratios))),
        cumulative_bonus=np.concatenate(([1.0], np.cumprod(1.0 + bonus))),
        report_dates=report_dates,
        report_noise=report_noise,
        lockup_ends=np.array([start + 244, start + 732]),
    )


def _fill_share_epochs(
    epoch_values: np.ndarray, epoch_starts: np.ndarray, events: Events, parameters: _Parameters
) -> None:
    """Fill the adjustment factor and share counts of every epoch.

    Factor and total shares step on ex-dates (bonus shares); the float share grows
    when the IPO lock-ups end after one and three years.
    """
    ex_count = np.searchsorted(events.ex_dates, epoch_starts, side="right")
    epoch_values[FACTOR] = np.round(events.cumulative_factor[ex_count], 3)
    initial_shares = parameters.initial_market_value / parameters.initial_price
    total_share = np.round(initial_shares * events.cumulative_bonus[ex_count], 4)
    lockups_done = np.searchsorted(events.lockup_ends, epoch_starts, side="right")
    float_fraction = np.array([parameters.initial_float_fraction, 0.75, 1.0])[lockups_done]
    float_share = np.round(total_share * float_fraction, 4)
    epoch_values[TOTAL_SHARE] = total_share
    epoch_values[FLOAT_SHARE] = float_share
    epoch_values[FREE_SHARE] = np.round(float_share * parameters.free_fraction, 4)


def _fill_fundamental_epochs(
    epoch_values: np.ndarray,
    epoch_starts: np.ndarray,
    events: Events,
    parameters: _Parameters,
    days: np.ndarray,
    close_cents: np.ndarray,
) -> None:
    """Fill yearly earnings, book value, sales and dividends (10k CNY) of every epoch.

    Each annual report values the company near its market value on the report day
    through a pe, pb and ps that vary around the stock's own level, so the served
    ratios stay plausible over decades. About one report in nine is a loss.
    """
    noise = np.tanh(events.report_noise)
    report_rows = np.clip(np.searchsorted(days, events.report_dates), 0, len(days) - 1)
    report_epochs = np.searchsorted(epoch_starts, events.report_dates, side="right") - 1
    report_epochs = np.clip(report_epochs, 0, len(epoch_starts) - 1)
    market_value = close_cents[report_rows] / 100.0 * epoch_values[TOTAL_SHARE][report_epochs]
    listing_value = close_cents[0] / 100.0 * epoch_values[TOTAL_SHARE][0]

    earnings = market_value / (parameters.initial_pe * np.exp(0.35 * noise[:, 1]))
    earnings = np.where(events.report_noise[:, 2] < -1.2, -0.3 * earnings, earnings)
    book = market_value / (parameters.initial_pb * np.exp(0.3 * noise[:, 3]))
    sales = market_value / (parameters.initial_ps * np.exp(0.3 * noise[:, 2]))

    # Before the first report, the listing-day market value is used.
    reports_done = np.searchsorted(events.report_dates, epoch_starts, side="right")
    year = np.maximum(reports_done - 1, 0)
    reported = reports_done > 0
    epoch_values[EARNINGS] = np.where(
        reported, earnings[year], listing_value / parameters.initial_pe
    )
    epoch_values[BOOK_VALUE] = np.where(reported, book[year], listing_value / parameters.initial_pb)
    epoch_values[SALES] = np.where(reported, sales[year], listing_value / parameters.initial_ps)
    epoch_values[EARNINGS_TTM] = epoch_values[EARNINGS] * (1.0 + 0.15 * noise[year, 0])
    epoch_values[SALES_TTM] = epoch_values[SALES] * (1.0 + 0.1 * noise[year, 1])
    epoch_values[DIVIDENDS] = np.maximum(epoch_values[EARNINGS], 0.0) * parameters.payout
    epoch_values[DIVIDENDS_TTM] = epoch_values[DIVIDENDS] * (1.0 + 0.1 * noise[year, 2])

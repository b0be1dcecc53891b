#!/usr/bin/env node
// An independent OCPP-J charger for fuseshare's tests: ocpp-rpc in strictMode
// (every call and response, both ways, is validated against the official
// JSON schemas of the chosen OCPP version).
//
// Usage: node charger.js --url ws://127.0.0.1:PORT/ocpp --identity CH-1
//                        --password pw --protocol ocpp1.6|ocpp2.0.1
//
// Driven over stdin/stdout with JSON lines:
//   in : {"id": 1, "cmd": "boot" | "status" | "start" | "meter" | "needs" | "stop" |
//          "heartbeat" | "raw" | "limit" | "profiles" | "quit", ...}
//        ("needs" is 2.0.1 only: NotifyEVChargingNeeds, as an ISO 15118 car makes it)
//   out: {"id": 1, "ok": true, "result": ...} or {"id": 1, "ok": false, "error": ...}
//        {"event": "connected" | "call" | "inbound" | "badMessage" |
//                  "strictValidationFailure" | "closed", ...}
'use strict';

const { RPCClient } = require('ocpp-rpc');
const readline = require('readline');

function arg(name, fallback) {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : fallback;
}

const url = arg('url');
const identity = arg('identity');
const password = arg('password');
const protocol = arg('protocol', 'ocpp1.6');
const v16 = protocol === 'ocpp1.6';
const MAX_CURRENT_A = 32;

function emit(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

function iso(ms) {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---- the charger's own smart charging (independent of fuseshare) ----------

const profiles = []; // {connectorId, id, stackLevel, purpose, validFrom, validTo, start, duration, unit, periods}
const config = {
    ChargeProfileMaxStackLevel: '5',
    ChargingScheduleAllowedChargingRateUnit: 'Current',
    ChargingScheduleMaxPeriods: '10',
    MaxChargingProfilesInstalled: '8',
    NumberOfConnectors: '1',
    MeterValuesSampledData: 'Energy.Active.Import.Register',
    MeterValueSampleInterval: '60',
};
const variables = {
    'SmartChargingCtrlr.ProfileStackLevel': '5',
    'SmartChargingCtrlr.RateUnit': 'A',
    'SmartChargingCtrlr.PeriodsPerSchedule': '10',
    'SmartChargingCtrlr.Entries[ChargingProfiles]': '8',
    'SmartChargingCtrlr.Enabled': 'true',
    'SampledDataCtrlr.TxUpdatedMeasurands': 'Energy.Active.Import.Register',
    'SampledDataCtrlr.TxUpdatedInterval': '60',
};

function ms(text) {
    return text === undefined ? undefined : Date.parse(text);
}

function storeProfile(connectorId, p) {
    const schedule = v16 ? p.chargingSchedule : p.chargingSchedule[0];
    const held = {
        connectorId,
        id: v16 ? p.chargingProfileId : p.id,
        stackLevel: p.stackLevel,
        purpose: p.chargingProfilePurpose,
        kind: p.chargingProfileKind,
        validFrom: ms(p.validFrom),
        validTo: ms(p.validTo),
        start: ms(schedule.startSchedule),
        duration: schedule.duration,
        unit: schedule.chargingRateUnit,
        periods: schedule.chargingSchedulePeriod.map((x) => [x.startPeriod, x.limit]),
    };
    for (let i = profiles.length - 1; i >= 0; i--) {
        const q = profiles[i];
        if (q.id === held.id || (q.connectorId === connectorId && q.stackLevel === held.stackLevel && q.purpose === held.purpose)) {
            profiles.splice(i, 1);
        }
    }
    profiles.push(held);
}

function profileLimit(p, t) {
    if (p.validFrom !== undefined && t < p.validFrom) return null;
    if (p.validTo !== undefined && t >= p.validTo) return null;
    if (p.kind !== 'Absolute' || p.start === undefined || t < p.start) return null;
    const offset = (t - p.start) / 1000;
    if (p.duration !== undefined && offset >= p.duration) return null;
    let limit = null;
    for (const [start, value] of [...p.periods].sort((a, b) => a[0] - b[0])) {
        if (start <= offset) limit = value;
    }
    return limit;
}

// TxDefaultProfile only (what fuseshare uses): highest stack level wins.
function limitAt(t) {
    const candidates = profiles
        .filter((p) => p.purpose === 'TxDefaultProfile')
        .sort((a, b) => b.stackLevel - a.stackLevel);
    for (const p of candidates) {
        const limit = profileLimit(p, t);
        if (limit !== null) return Math.min(limit, MAX_CURRENT_A);
    }
    return MAX_CURRENT_A;
}

function compositePeriods(startMs, durationS) {
    const end = startMs + durationS * 1000;
    const cuts = new Set([startMs]);
    for (const p of profiles) {
        for (const t of [p.validFrom, p.validTo, p.start, p.duration !== undefined && p.start !== undefined ? p.start + p.duration * 1000 : undefined]) {
            if (t !== undefined && t > startMs && t < end) cuts.add(t);
        }
    }
    const periods = [];
    for (const t of [...cuts].sort((a, b) => a - b)) {
        const limit = Math.floor(limitAt(t) * 10) / 10;
        const startPeriod = Math.round((t - startMs) / 1000);
        if (!periods.length || periods[periods.length - 1].limit !== limit) {
            periods.push({ startPeriod, limit });
        }
    }
    return periods;
}

// ---- the client ------------------------------------------------------------

const cli = new RPCClient({
    endpoint: url,
    identity,
    password,
    protocols: [protocol],
    strictMode: true,
    reconnect: false,
    callTimeoutMs: 10000,
});

cli.on('strictValidationFailure', (e) => emit({
    event: 'strictValidationFailure',
    outbound: e.outbound, isCall: e.isCall, method: e.method, error: String(e.error && e.error.message),
}));
cli.on('badMessage', (e) => emit({ event: 'badMessage', message: e.buffer.toString('utf8'), error: String(e.error && e.error.message) }));
cli.on('message', ({ message, outbound }) => { if (!outbound) emit({ event: 'inbound', message }); });
cli.on('close', (e) => emit({ event: 'closed', code: e.code }));

function handled(method, fn) {
    cli.handle(method, ({ params }) => {
        emit({ event: 'call', method, params });
        return fn(params);
    });
}

if (v16) {
    handled('ChangeConfiguration', (p) => { config[p.key] = p.value; return { status: 'Accepted' }; });
    handled('GetConfiguration', (p) => {
        const keys = p.key && p.key.length ? p.key : Object.keys(config);
        return {
            configurationKey: keys.filter((k) => k in config).map((k) => ({ key: k, readonly: false, value: config[k] })),
            unknownKey: keys.filter((k) => !(k in config)),
        };
    });
    handled('SetChargingProfile', (p) => { storeProfile(p.connectorId, p.csChargingProfiles); return { status: 'Accepted' }; });
    handled('ClearChargingProfile', (p) => {
        const before = profiles.length;
        for (let i = profiles.length - 1; i >= 0; i--) {
            if (p.id === undefined || profiles[i].id === p.id) profiles.splice(i, 1);
        }
        return { status: profiles.length < before ? 'Accepted' : 'Unknown' };
    });
    handled('GetCompositeSchedule', (p) => {
        const start = Math.floor(Date.now() / 1000) * 1000;
        return {
            status: 'Accepted', connectorId: p.connectorId, scheduleStart: iso(start),
            chargingSchedule: {
                duration: p.duration, startSchedule: iso(start), chargingRateUnit: 'A',
                chargingSchedulePeriod: compositePeriods(start, p.duration),
            },
        };
    });
    handled('TriggerMessage', () => ({ status: 'Accepted' }));
    handled('Reset', () => ({ status: 'Accepted' }));
} else {
    handled('SetVariables', (p) => ({
        setVariableResult: p.setVariableData.map((d) => {
            variables[`${d.component.name}.${d.variable.name}`] = d.attributeValue;
            return { attributeStatus: 'Accepted', component: d.component, variable: d.variable };
        }),
    }));
    handled('GetVariables', (p) => ({
        getVariableResult: p.getVariableData.map((d) => {
            const key = `${d.component.name}.${d.variable.name}` + (d.variable.instance ? `[${d.variable.instance}]` : '');
            const r = { attributeStatus: key in variables ? 'Accepted' : 'UnknownVariable', component: d.component, variable: d.variable };
            if (key in variables) r.attributeValue = variables[key];
            return r;
        }),
    }));
    handled('SetChargingProfile', (p) => { storeProfile(p.evseId, p.chargingProfile); return { status: 'Accepted' }; });
    handled('ClearChargingProfile', (p) => {
        const before = profiles.length;
        for (let i = profiles.length - 1; i >= 0; i--) {
            if (p.chargingProfileId === undefined || profiles[i].id === p.chargingProfileId) profiles.splice(i, 1);
        }
        return { status: profiles.length < before ? 'Accepted' : 'Unknown' };
    });
    handled('GetCompositeSchedule', (p) => {
        const start = Math.floor(Date.now() / 1000) * 1000;
        return {
            status: 'Accepted',
            schedule: {
                evseId: p.evseId, duration: p.duration, scheduleStart: iso(start), chargingRateUnit: 'A',
                chargingSchedulePeriod: compositePeriods(start, p.duration),
            },
        };
    });
    handled('TriggerMessage', () => ({ status: 'Accepted' }));
    handled('Reset', () => ({ status: 'Accepted' }));
}

// ---- commands from the test ------------------------------------------------

let energyWh = 0;
let seqNo = 0;
let txId = null;

function sampled(currents, powerW, context) {
    const out = [];
    const value = (v, measurand, unit, phase) => {
        const item = { measurand, context };
        if (v16) { item.value = v.toFixed(1); item.unit = unit; } else { item.value = Math.round(v * 10) / 10; item.unitOfMeasure = { unit }; }
        if (phase) item.phase = phase;
        return item;
    };
    (currents || []).forEach((c, i) => out.push(value(c, 'Current.Import', 'A', `L${i + 1}`)));
    if (powerW !== undefined && powerW !== null) out.push(value(powerW, 'Power.Active.Import', 'W'));
    out.push(value(energyWh, 'Energy.Active.Import.Register', 'Wh'));
    return [{ timestamp: iso(Date.now()), sampledValue: out }];
}

const commands = {
    async boot() {
        return v16
            ? cli.call('BootNotification', { chargePointVendor: 'ocpp-rpc-peer', chargePointModel: 'StrictCharger', firmwareVersion: '2.2.1' })
            : cli.call('BootNotification', { reason: 'PowerUp', chargingStation: { vendorName: 'ocpp-rpc-peer', model: 'StrictCharger', firmwareVersion: '2.2.1' } });
    },
    async heartbeat() { return cli.call('Heartbeat', {}); },
    async status({ status }) {
        return v16
            ? cli.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status })
            : cli.call('StatusNotification', { timestamp: iso(Date.now()), connectorStatus: status, evseId: 1, connectorId: 1 });
    },
    async start({ idTag }) {
        if (v16) {
            const r = await cli.call('StartTransaction', { connectorId: 1, idTag, meterStart: energyWh, timestamp: iso(Date.now()) });
            txId = r.transactionId;
            return r;
        }
        txId = `${identity}-tx-1`;
        return cli.call('TransactionEvent', {
            eventType: 'Started', timestamp: iso(Date.now()), triggerReason: 'Authorized', seqNo: seqNo++,
            transactionInfo: { transactionId: txId, chargingState: 'Charging' }, evse: { id: 1, connectorId: 1 },
            idToken: { idToken: idTag, type: 'ISO14443' }, meterValue: sampled(null, null, 'Transaction.Begin'),
        });
    },
    async meter({ currents, powerW, addWh }) {
        energyWh += addWh || 0;
        if (v16) {
            return cli.call('MeterValues', { connectorId: 1, transactionId: txId, meterValue: sampled(currents, powerW, 'Sample.Periodic') });
        }
        return cli.call('TransactionEvent', {
            eventType: 'Updated', timestamp: iso(Date.now()), triggerReason: 'MeterValuePeriodic', seqNo: seqNo++,
            transactionInfo: { transactionId: txId, chargingState: 'Charging' }, evse: { id: 1, connectorId: 1 },
            meterValue: sampled(currents, powerW, 'Sample.Periodic'),
        });
    },
    async needs({ energyWh, departureInS, evMaxCurrent }) {
        if (v16) throw new Error('OCPP 1.6 has no NotifyEVChargingNeeds');
        return cli.call('NotifyEVChargingNeeds', {
            evseId: 1,
            chargingNeeds: {
                requestedEnergyTransfer: 'AC_three_phase',
                departureTime: iso(Date.now() + departureInS * 1000),
                acChargingParameters: { energyAmount: energyWh, evMinCurrent: 6, evMaxCurrent, evMaxVoltage: 230 },
            },
        });
    },
    async stop() {
        const r = v16
            ? await cli.call('StopTransaction', { transactionId: txId, meterStop: energyWh, timestamp: iso(Date.now()), reason: 'Local' })
            : await cli.call('TransactionEvent', {
                eventType: 'Ended', timestamp: iso(Date.now()), triggerReason: 'StopAuthorized', seqNo: seqNo++,
                transactionInfo: { transactionId: txId, chargingState: 'Idle', stoppedReason: 'Local' }, evse: { id: 1, connectorId: 1 },
                meterValue: sampled(null, null, 'Transaction.End'),
            });
        txId = null;
        return r;
    },
    async raw({ frame }) { cli.sendRaw(frame); return null; },
    async limit({ atOffsetS }) { return { limit: limitAt(Date.now() + (atOffsetS || 0) * 1000) }; },
    async profiles() { return profiles; },
    async quit() { await cli.close({ code: 1000 }); setTimeout(() => process.exit(0), 50); return null; },
};

async function main() {
    try {
        await cli.connect();
        emit({ event: 'connected', protocol: cli.protocol });
    } catch (err) {
        emit({ event: 'connectFailed', status: err.code === undefined ? null : err.code, error: String(err.message) });
        process.exit(2);
    }
    const rl = readline.createInterface({ input: process.stdin });
    rl.on('line', async (line) => {
        let msg;
        try { msg = JSON.parse(line); } catch (e) { return; }
        const fn = commands[msg.cmd];
        try {
            if (!fn) throw new Error(`unknown command ${msg.cmd}`);
            emit({ id: msg.id, ok: true, result: await fn(msg) });
        } catch (err) {
            emit({ id: msg.id, ok: false, error: String(err.message), code: err.rpcErrorCode || null });
        }
    });
    rl.on('close', () => process.exit(0));
}

main();

"""Two-factor login to the panel: an authenticator app (TOTP, RFC 6238), one-time recovery codes,
and WebAuthn security keys (py_webauthn) that stand in for the app's code once it is set up.

The authenticator is django-otp's ``TOTPDevice`` (its secret, its clock drift, the last time step
accepted and the throttle after wrong codes); the recovery codes are ``RecoveryCode`` rows holding
only a hash. Every check runs with the device's row locked (``SELECT ... FOR UPDATE``; SQLite's
IMMEDIATE transactions serialise writers anyway), so the same code posted twice in parallel is
accepted once, and parallel guesses cannot slip past the throttle together: after each wrong code
the next is checked only after 1, 2, 4, 8 ... seconds (``OTP_TOTP_THROTTLE_FACTOR``).

A security key is checked with the same row locked and counts against the same throttle; its
signature counter must grow (a cloned key is refused). The challenge of each ceremony lives in the
session, is used once, and expires with ``KEY_SECONDS``.

Enrolment, removal, a reset by an administrator, new recovery codes, security keys added and
removed, and every use and every wrong code at login are written to the audit log. Who must use
it: ``permissions.must_use_two_factor``; who may remove another account's:
``permissions.can_reset_two_factor``.
"""

from __future__ import annotations

import hashlib
import io
import time
from base64 import b32encode, b64encode
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import RecoveryCode, SecurityKey
from mailadmin import permissions
from mailadmin.audit import record
from mailadmin.lib.drawn import BASE32, draw
from mailadmin.permissions import require

# The session of a login whose password was right and whose second factor is still to come (the
# account is not logged in until then), and of an account that must set it up before anything else
# (``accounts.middleware``). Both are set by the login view.
SESSION_PENDING = "two_factor_pending"
SESSION_ENROL = "two_factor_enrol"

RECOVERY_CODE_COUNT = 10
# 16 characters of base32 (80 bits), shown in groups of four: abcd-efgh-ijkm-nopq.
_CODE_CHARS = 16
# An unconfirmed authenticator (its picture shown, its first code not yet typed) is kept this long.
SETUP_MINUTES = 15

WRONG_CODE = gettext_noop("That code is not right (or was used already).")


# --- reading ----------------------------------------------------------------------------


def device_of(mailbox, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=mailbox, confirmed=confirmed).order_by("pk").first()


def is_enrolled(mailbox) -> bool:
    return TOTPDevice.objects.filter(user=mailbox, confirmed=True).exists()


def status(mailbox) -> dict:
    """What the account pages show: set up since when, last used, recovery codes left."""
    device = device_of(mailbox)
    if device is None:
        return {"enrolled": False}
    return {
        "enrolled": True,
        "since": device.created_at,
        "last_used": device.last_used_at,
        "codes_left": RecoveryCode.objects.filter(mailbox=mailbox, used_at=None).count(),
    }


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The device's ``otpauth://`` address as a QR code, an SVG in a data: URI (the CSP allows
    images from data:, no script needed)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + b64encode(buffer.getvalue()).decode("ascii")


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app that cannot scan."""
    text = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


# --- codes ------------------------------------------------------------------------------


def _new_recovery_code() -> str:
    raw = draw(_CODE_CHARS)
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_CHARS, 4))


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def _normalise(code: str) -> str:
    """A code as typed: spaces and dashes dropped, lower case. Six digits are an authenticator's."""
    return "".join(ch for ch in code.lower() if ch not in " -\t")


def _is_totp(code: str) -> bool:
    return len(code) == 6 and code.isascii() and code.isdigit()


def _recovery_key(code: str) -> str | None:
    """The canonical form of a recovery code (``abcd-efgh-...``), or None when it cannot be one."""
    if len(code) != _CODE_CHARS or any(ch not in BASE32 for ch in code):
        return None
    return "-".join(code[i : i + 4] for i in range(0, _CODE_CHARS, 4))


def _issue_recovery_codes(mailbox) -> list[str]:
    RecoveryCode.objects.filter(mailbox=mailbox).delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(RecoveryCode(mailbox=mailbox, digest=_digest(code)) for code in codes)
    return codes


# --- checking ---------------------------------------------------------------------------


def _locked_device(mailbox, *, confirmed: bool) -> TOTPDevice | None:
    return TOTPDevice.objects.select_for_update().filter(user=mailbox, confirmed=confirmed).order_by("pk").first()


def _wait_seconds(device: TOTPDevice) -> int:
    """Seconds before the device takes another code (django-otp's throttle), 0 when it takes one now."""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return 0
    locked_until = (data or {}).get("locked_until")
    if locked_until is None:
        return 1
    return max(1, int((locked_until - timezone.now()).total_seconds() + 0.999))


def _totp_matches(device: TOTPDevice, code: str) -> bool:
    """The code is the device's for now (give or take ``tolerance`` steps) and newer than the last
    one accepted: a code is never taken twice. On a match the step is remembered."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(code), device.tolerance, device.last_t + 1):
        return False
    device.last_t, device.drift, device.last_used_at = totp.t(), totp.drift, timezone.now()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None
    device.save(
        update_fields=["last_t", "drift", "last_used_at", "throttling_failure_count", "throttling_failure_timestamp"]
    )
    return True


def _recovery_code_matches(mailbox, code: str) -> bool:
    key = _recovery_key(code)
    if key is None:
        return False
    used = RecoveryCode.objects.filter(mailbox=mailbox, digest=_digest(key), used_at=None)
    return used.update(used_at=timezone.now()) == 1


def _check(mailbox, device: TOTPDevice, code: str, *, recovery: bool) -> tuple[str | None, str]:
    """(how the code matched, or None) and why not: ``throttled`` or ``wrong``. Call with the device
    locked; a wrong code counts against the throttle."""
    if _wait_seconds(device):
        return None, "throttled"
    code = _normalise(code)[:64]
    if _is_totp(code) and _totp_matches(device, code):
        return "authenticator", ""
    if recovery and _recovery_code_matches(mailbox, code):
        return "recovery code", ""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=F("throttling_failure_count") + 1, throttling_failure_timestamp=timezone.now()
    )
    return None, "wrong"


def _refusal(device_pk: int, reason: str) -> ValidationError:
    if reason == "throttled":
        device = TOTPDevice.objects.get(pk=device_pk)
        text = gettext("Too many wrong codes: wait %(seconds)s seconds, then try again.")
        return ValidationError({"code": text % {"seconds": _wait_seconds(device)}}, code="throttled")
    return ValidationError({"code": gettext(WRONG_CODE)}, code="wrong")


def verify_login(*, mailbox, code: str, origin: str) -> str:
    """Check the second factor of a login whose password was right: an authenticator's code or an
    unused recovery code (used up by this). Returns how it matched; raises ValidationError (on
    ``code``) otherwise. The wrong code and the refusal are recorded either way."""
    with transaction.atomic():
        device = _locked_device(mailbox, confirmed=True)
        if device is None:
            raise ValidationError({"code": gettext("This account has no second factor set up.")}, code="none")
        method, reason = _check(mailbox, device, code, recovery=True)
        after = {"method": method} if method else {"refused": reason}
        if method == "recovery code":
            after["recovery_codes_left"] = RecoveryCode.objects.filter(mailbox=mailbox, used_at=None).count()
        record(
            acting_user=mailbox,
            origin=origin,
            action="two_factor.login" if method else "two_factor.refused",
            obj=mailbox,
            domain=mailbox.domain,
            after=after,
        )
    if method is None:
        raise _refusal(device.pk, reason)
    return method


def _check_own_code(mailbox, code: str, origin: str, *, what: str) -> None:
    """Before removing one's own second factor or drawing new recovery codes: a current code."""
    with transaction.atomic():
        device = _locked_device(mailbox, confirmed=True)
        if device is None:
            raise ValidationError({"code": gettext("Two-factor login is not set up.")}, code="none")
        method, reason = _check(mailbox, device, code, recovery=True)
        if method is None:
            record(
                acting_user=mailbox,
                origin=origin,
                action="two_factor.refused",
                obj=mailbox,
                domain=mailbox.domain,
                after={"refused": reason, "for": what},
            )
    if method is None:
        raise _refusal(device.pk, reason)


# --- changes ----------------------------------------------------------------------------


@transaction.atomic
def start_enrolment(*, mailbox) -> TOTPDevice:
    """The authenticator being set up: a new secret, or the one shown a moment ago (a reload of the
    page shows the same picture). Refused while one is set up: remove it first."""
    require(not is_enrolled(mailbox), gettext("Two-factor login is set up already; remove it first to set up another."))
    recent = timezone.now() - timedelta(minutes=SETUP_MINUTES)
    pending = _locked_device(mailbox, confirmed=False)
    if pending is not None and pending.created_at and pending.created_at >= recent:
        return pending
    TOTPDevice.objects.filter(user=mailbox, confirmed=False).delete()
    return TOTPDevice.objects.create(user=mailbox, name="authenticator", confirmed=False)


def enrol(*, acting_user, mailbox, code: str, origin: str) -> list[str]:
    """Confirm the authenticator being set up with its first code; returns the recovery codes, to
    be shown once. Only the account itself enrols (an administrator cannot hold its phone)."""
    require(
        permissions.can_change_own_two_factor(acting_user, mailbox),
        gettext("Only the account itself sets up its login."),
    )
    with transaction.atomic():
        if is_enrolled(mailbox):
            raise ValidationError({"code": gettext("Two-factor login is set up already.")}, code="enrolled")
        device = _locked_device(mailbox, confirmed=False)
        if device is None:
            raise ValidationError({"code": gettext("Start again: the picture has expired.")}, code="expired")
        method, reason = _check(mailbox, device, code, recovery=False)
        if method is not None:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _issue_recovery_codes(mailbox)
            record(
                acting_user=acting_user,
                origin=origin,
                action="two_factor.enrol",
                obj=mailbox,
                domain=mailbox.domain,
                after={"method": "authenticator", "recovery_codes": len(codes)},
            )
    if method is None:
        raise _refusal(device.pk, reason)
    return codes


def remove_own(*, acting_user, mailbox, code: str, origin: str) -> None:
    """Switch one's own two-factor login off, proven with a current code (or a recovery code)."""
    require(permissions.can_change_own_two_factor(acting_user, mailbox), gettext("That is not your account."))
    _check_own_code(mailbox, code, origin, what="remove")
    _remove(acting_user=acting_user, mailbox=mailbox, origin=origin, action="two_factor.remove")


def reset(*, acting_user, mailbox, origin: str) -> None:
    """Remove another account's second factor (a lost phone): by whoever may manage that mailbox and
    never for a higher-ranked one; the command line (``acting_user=None``) may for any, as the
    last way back in for a superuser."""
    require(
        acting_user is None or permissions.can_reset_two_factor(acting_user, mailbox),
        gettext("You may not reset that account's two-factor login."),
    )
    if not is_enrolled(mailbox):
        raise ValidationError(
            gettext("%(account)s has no two-factor login to reset.") % {"account": mailbox}, code="none"
        )
    _remove(acting_user=acting_user, mailbox=mailbox, origin=origin, action="two_factor.reset")


@transaction.atomic
def _remove(*, acting_user, mailbox, origin: str, action: str) -> None:
    TOTPDevice.objects.filter(user=mailbox).delete()
    RecoveryCode.objects.filter(mailbox=mailbox).delete()
    SecurityKey.objects.filter(mailbox=mailbox).delete()
    record(acting_user=acting_user, origin=origin, action=action, obj=mailbox, domain=mailbox.domain)


def new_recovery_codes(*, acting_user, mailbox, code: str, origin: str) -> list[str]:
    """Replace every recovery code (used or not) with ten new ones, proven with a current code."""
    require(permissions.can_change_own_two_factor(acting_user, mailbox), gettext("That is not your account."))
    _check_own_code(mailbox, code, origin, what="new recovery codes")
    with transaction.atomic():
        codes = _issue_recovery_codes(mailbox)
        record(
            acting_user=acting_user,
            origin=origin,
            action="two_factor.recovery_codes",
            obj=mailbox,
            domain=mailbox.domain,
            after={"recovery_codes": len(codes)},
        )
    return codes


# --- security keys (WebAuthn) -------------------------------------------------------------

MAX_SECURITY_KEYS = 10
KEY_SECONDS = 300  # how long a ceremony's challenge stays good
SESSION_KEY_CHALLENGE = "two_factor_key_challenge"
WRONG_KEY = gettext_noop("That security key did not answer for this account.")


def security_keys(mailbox):
    return SecurityKey.objects.filter(mailbox=mailbox)


def _key_digest(credential_id: str) -> str:
    return hashlib.sha256(credential_id.encode("ascii", "replace")).hexdigest()


def _descriptors(mailbox) -> list:
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor

    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(k.credential_id)) for k in security_keys(mailbox)]


def _remember(session, purpose: str, challenge: bytes) -> None:
    from webauthn.helpers import bytes_to_base64url

    session[SESSION_KEY_CHALLENGE] = {"for": purpose, "challenge": bytes_to_base64url(challenge), "at": time.time()}


def _take_challenge(session, purpose: str) -> bytes:
    """The challenge this session was given for ``purpose``, used up now; a ValidationError when
    there is none, it was for something else, or it is older than KEY_SECONDS."""
    from webauthn.helpers import base64url_to_bytes

    given = session.pop(SESSION_KEY_CHALLENGE, None)
    if not isinstance(given, dict) or given.get("for") != purpose or time.time() - given.get("at", 0) > KEY_SECONDS:
        raise ValidationError(
            {"credential": gettext("The security key was asked too long ago: try again.")}, code="expired"
        )
    return base64url_to_bytes(given["challenge"])


def key_registration_options(*, mailbox, session, rp_id: str, rp_name: str) -> str:
    """The options (JSON) for the browser's ``navigator.credentials.create``; the challenge is kept
    in ``session``. Only for an account with two-factor login set up, and at most MAX_SECURITY_KEYS."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import AuthenticatorSelectionCriteria, UserVerificationRequirement

    require(is_enrolled(mailbox), gettext("Set up two-factor login with an authenticator app first."))
    if security_keys(mailbox).count() >= MAX_SECURITY_KEYS:
        raise ValidationError(gettext("At most %(n)s security keys: remove one first.") % {"n": MAX_SECURITY_KEYS})
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_name,
        user_id=str(mailbox.pk).encode(),
        user_name=mailbox.address,
        exclude_credentials=_descriptors(mailbox),
        authenticator_selection=AuthenticatorSelectionCriteria(
            user_verification=UserVerificationRequirement.DISCOURAGED
        ),
    )
    _remember(session, f"add:{mailbox.pk}", options.challenge)
    return options_to_json(options)


def add_security_key(
    *, acting_user, mailbox, session, name: str, credential: str, rp_id: str, expected_origin: str, origin: str
) -> SecurityKey:
    """Keep the key that answered the registration challenge of this session."""
    from webauthn import verify_registration_response
    from webauthn.helpers import bytes_to_base64url
    from webauthn.helpers.exceptions import WebAuthnException

    require(
        permissions.can_change_own_two_factor(acting_user, mailbox), gettext("Only the account itself adds its keys.")
    )
    require(is_enrolled(mailbox), gettext("Set up two-factor login with an authenticator app first."))
    name = " ".join((name or "").split())
    if not name or len(name) > 60 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise ValidationError({"name": gettext("Give the key a name of one line, at most 60 characters.")})
    challenge = _take_challenge(session, f"add:{mailbox.pk}")
    try:
        verified = verify_registration_response(
            credential=credential or "",
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=expected_origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        text = gettext("The security key's answer was not accepted (%(reason)s).")
        raise ValidationError({"credential": text % {"reason": exc}}) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    with transaction.atomic():
        if security_keys(mailbox).select_for_update().count() >= MAX_SECURITY_KEYS:
            raise ValidationError(gettext("At most %(n)s security keys: remove one first.") % {"n": MAX_SECURITY_KEYS})
        if SecurityKey.objects.filter(credential_digest=_key_digest(credential_id)).exists():
            raise ValidationError({"credential": gettext("That security key is added already.")})
        key = SecurityKey.objects.create(
            mailbox=mailbox,
            name=name,
            credential_id=credential_id,
            credential_digest=_key_digest(credential_id),
            public_key=bytes_to_base64url(verified.credential_public_key),
            sign_count=verified.sign_count,
        )
        record(
            acting_user=acting_user,
            origin=origin,
            action="two_factor.key_add",
            obj=mailbox,
            domain=mailbox.domain,
            after={"key": name},
        )
    return key


@transaction.atomic
def remove_security_key(*, acting_user, key: SecurityKey, origin: str) -> None:
    mailbox = key.mailbox
    require(
        permissions.can_change_own_two_factor(acting_user, mailbox),
        gettext("Only the account itself removes its keys."),
    )
    record(
        acting_user=acting_user,
        origin=origin,
        action="two_factor.key_remove",
        obj=mailbox,
        domain=mailbox.domain,
        before={"key": key.name},
    )
    key.delete()


def key_login_options(*, mailbox, session, rp_id: str) -> str:
    """The options (JSON) for ``navigator.credentials.get`` at the login's second step."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

    descriptors = _descriptors(mailbox)
    if not descriptors:
        raise ValidationError(gettext("This account has no security key."), code="none")
    options = generate_authentication_options(
        rp_id=rp_id, allow_credentials=descriptors, user_verification=UserVerificationRequirement.DISCOURAGED
    )
    _remember(session, f"login:{mailbox.pk}", options.challenge)
    return options_to_json(options)


def verify_key_login(*, mailbox, session, credential: str, rp_id: str, expected_origin: str, origin: str) -> str:
    """Check a security key's answer at the login's second step, as ``verify_login`` checks a code
    (the same lock, throttle and audit). Returns "security key"; a ValidationError otherwise."""
    import json

    from webauthn import verify_authentication_response
    from webauthn.helpers import base64url_to_bytes
    from webauthn.helpers.exceptions import WebAuthnException

    challenge = _take_challenge(session, f"login:{mailbox.pk}")
    with transaction.atomic():
        device = _locked_device(mailbox, confirmed=True)
        if device is None:
            raise ValidationError({"credential": gettext("This account has no second factor set up.")}, code="none")
        reason, key = "", None
        if _wait_seconds(device):
            reason = "throttled"
        else:
            try:
                raw_id = str(json.loads(credential or "{}").get("id", ""))
            except (ValueError, AttributeError):
                raw_id = ""
            key = security_keys(mailbox).select_for_update().filter(credential_digest=_key_digest(raw_id)).first()
            try:
                if key is None:
                    raise ValueError("not one of this account's keys")
                verified = verify_authentication_response(
                    credential=credential,
                    expected_challenge=challenge,
                    expected_rp_id=rp_id,
                    expected_origin=expected_origin,
                    credential_public_key=base64url_to_bytes(key.public_key),
                    credential_current_sign_count=key.sign_count,
                )
            except (WebAuthnException, ValueError, KeyError, TypeError):
                reason = "wrong"
            else:
                key.sign_count, key.last_used_at = verified.new_sign_count, timezone.now()
                key.save(update_fields=["sign_count", "last_used_at"])
        if reason == "wrong":
            TOTPDevice.objects.filter(pk=device.pk).update(
                throttling_failure_count=F("throttling_failure_count") + 1,
                throttling_failure_timestamp=timezone.now(),
            )
        record(
            acting_user=mailbox,
            origin=origin,
            action="two_factor.refused" if reason else "two_factor.login",
            obj=mailbox,
            domain=mailbox.domain,
            after={"refused": reason, "method": "security key"}
            if reason
            else {"method": "security key", "key": key.name},
        )
    if reason == "throttled":
        raise _refusal(device.pk, reason)
    if reason:
        raise ValidationError({"credential": gettext(WRONG_KEY)}, code="wrong")
    return "security key"

"""Flask-WTF forms (CSRF included)."""

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from app.models import DELIVERY_METHODS


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)])


class RegisterForm(FlaskForm):
    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            Length(min=3, max=64),
            Regexp(r"^[\w.-]+$", message="Letters, digits, '.', '-' and '_' only"),
        ],
    )
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=120)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=8, max=128)])
    confirm = PasswordField(
        "Repeat password", validators=[DataRequired(), EqualTo("password", "Passwords differ")]
    )


class AddToCartForm(FlaskForm):
    product_id = HiddenField(validators=[DataRequired()])
    quantity = IntegerField("Qty", default=1, validators=[NumberRange(min=1, max=99)])


class CartUpdateForm(FlaskForm):
    product_id = HiddenField(validators=[DataRequired()])
    quantity = IntegerField("Qty", validators=[NumberRange(min=0, max=99)])


class CheckoutForm(FlaskForm):
    delivery_method = RadioField(
        "Delivery",
        choices=[SelectChoice(m, m.capitalize()) for m in DELIVERY_METHODS],
        default="home delivery",
        validators=[DataRequired()],
    )
    delivery_address = TextAreaField("Delivery address", validators=[Optional(), Length(max=300)])
    idempotency_key = HiddenField()


class EmptyForm(FlaskForm):
    """A CSRF token and nothing else (logout, remove buttons)."""
